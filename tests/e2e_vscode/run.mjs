#!/usr/bin/env node
// End-to-end test of the Codesearch extension in a real VS Code (code-server), driven through
// headless Chromium with playwright-core. From the repository root: `npm run test:e2e`.
//
// 1. installs the tools once (setup.mjs), builds the .vsix (`npm run package`)
// 2. starts code-server with a temporary user-data-dir whose settings point
//    codesearch.server.pythonPath at $CODESEARCH_PYTHON, on a copy of ./fixture
// 3. asserts through the page: the status bar goes from indexing to the idle entity count;
//    "Codesearch: Search" finds a function by a natural-language query and opens it; editing
//    and saving a function updates the index; a file with invalid UTF-8 shows a `codesearch`
//    diagnostic in the Problems panel; Find Similar, the status menu, the language model tool
//    and the MCP server definition (through the test-only probe-extension/), and the "Install
//    Server" flow after switching to an interpreter without the server (see README.md)
// Screenshots and logs go to test-artifacts/e2e_vscode/. Exit code 0 = passed, 1 = failed,
// 2 = the server is not importable in that interpreter (the run stops after checking that the
// extension reports it).
//
// Environment: CODESEARCH_PYTHON (default <repo>/.venv/bin/python, else /tmp/venv0/bin/python),
// E2E_CACHE_DIR (default <repo>/.cache/e2e), E2E_KEEP=1 keeps the temporary folder,
// E2E_SKIP_PACKAGE=1 reuses vscode-extension/dist/codesearch.vsix.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureTools } from './setup.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
const cacheDir = process.env.E2E_CACHE_DIR || path.join(repo, '.cache', 'e2e');
const artifacts = path.join(repo, 'test-artifacts', 'e2e_vscode');
const vsix = path.join(repo, 'vscode-extension', 'dist', 'codesearch.vsix');
/** A test-only extension that calls vscode.lm from inside VS Code (probe-extension/extension.js). */
const probeDir = path.join(here, 'probe-extension');
const python =
  process.env.CODESEARCH_PYTHON ||
  [path.join(repo, '.venv', 'bin', 'python'), '/tmp/venv0/bin/python'].find((p) => fs.existsSync(p)) ||
  'python3';

/** Code the fixture does not hold (the probe extension asks its tool the same). */
const UNRELATED_QUERY = 'simulate quantum chromodynamics on a lattice';

/** The default keybinding of Codesearch: Search (package.json `keybindings`), as Playwright types it. */
const SEARCH_KEY = 'Control+Shift+Alt+F';

/** Budget for everything after the install, and per-step waits. */
const RUN_BUDGET_MS = 8 * 60_000;
const T = {
  workbench: 90_000,
  firstIdle: 240_000,
  search: 60_000,
  reindexAfterSave: 120_000,
  problems: 60_000,
  ui: 15_000,
};

const t0 = Date.now();
const stamp = () => `${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s`;
const log = (msg) => console.log(`[e2e ${stamp()}] ${msg}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

class StepError extends Error {}

let passed = 0;
/** Logs a passed check and counts it. */
function pass(msg) {
  passed += 1;
  log(`PASS ${msg}`);
}

/** Run in reverse order of registration (last registered, first run). */
const cleanups = [];
let shotCount = 0;
let page;

async function screenshot(name) {
  if (!page) {
    return;
  }
  shotCount += 1;
  const file = path.join(artifacts, `${String(shotCount).padStart(2, '0')}-${name}.png`);
  try {
    await page.screenshot({ path: file, timeout: 15_000 });
    log(`screenshot ${path.relative(repo, file)}`);
  } catch (err) {
    log(`screenshot ${name} failed: ${err.message}`);
  }
}

/** Polls `fn` until it returns a truthy value or `timeoutMs` passes. */
async function waitFor(what, fn, timeoutMs, intervalMs = 250) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await fn();
      if (last) {
        return last;
      }
    } catch (err) {
      if (err instanceof StepError) {
        throw err;
      }
      last = err;
    }
    await sleep(intervalMs);
  }
  throw new StepError(`timed out after ${timeoutMs / 1000} s waiting for ${what}${last instanceof Error ? ` (${last.message})` : ''}`);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Workspace: a copy of ./fixture, plus generated modules (so indexing lasts long enough to be
// seen) and a Python file with invalid UTF-8.

const TOPICS = [
  ['celsius', 'temperature reading', 'convert a temperature between Celsius and Fahrenheit'],
  ['polygon', 'polygon area', 'compute the area of a simple polygon with the shoelace formula'],
  ['palette', 'colour palette', 'blend two RGB colours into a gradient palette'],
  ['calendar', 'calendar week', 'find the ISO week number of a calendar date'],
  ['slug', 'url slug', 'turn a title into a lowercase URL slug'],
  ['matrix', 'matrix product', 'multiply two small matrices given as nested lists'],
  ['histogram', 'histogram bins', 'count values into equal-width histogram bins'],
  ['roman', 'roman numeral', 'format an integer as a Roman numeral'],
  ['distance', 'great circle distance', 'distance between two latitude/longitude points'],
  ['anagram', 'anagram groups', 'group words that are anagrams of each other'],
  ['median', 'running median', 'keep the median of a stream of numbers'],
  ['password', 'password strength', 'score how strong a password is'],
];
const VERBS = ['compute', 'describe', 'validate', 'summarize', 'render'];

function generatedModule(i) {
  const [noun, thing, purpose] = TOPICS[i % TOPICS.length];
  const lines = [`"""Generated module ${i}: helpers about ${thing}."""`, ''];
  for (const verb of VERBS) {
    lines.push(
      '',
      `def ${verb}_${noun}_${i}(values, scale=${(i % 7) + 1}):`,
      `    """${verb[0].toUpperCase()}${verb.slice(1)} step for ${thing}: ${purpose}."""`,
      `    total = 0`,
      `    for index, value in enumerate(values):`,
      `        total += (value * scale + index) % ${97 + i}`,
      `    return total`,
      '',
    );
  }
  return lines.join('\n');
}

function prepareWorkspace(base) {
  const ws = path.join(base, 'workspace');
  fs.cpSync(path.join(here, 'fixture'), ws, { recursive: true });
  fs.mkdirSync(path.join(ws, 'generated'), { recursive: true });
  for (let i = 0; i < 48; i++) {
    fs.writeFileSync(path.join(ws, 'generated', `module_${String(i).padStart(2, '0')}.py`), generatedModule(i));
  }
  // Latin-1 bytes: not valid UTF-8, which the server reports as a diagnostic on the first line.
  fs.mkdirSync(path.join(ws, 'legacy'), { recursive: true });
  fs.writeFileSync(
    path.join(ws, 'legacy', 'broken_encoding.py'),
    Buffer.concat([Buffer.from('def caf'), Buffer.from([0xe9]), Buffer.from('_menu():\n    return "cr'), Buffer.from([0xe8, 0xff]), Buffer.from('me"\n')]),
  );
  return ws;
}

/**
 * A fresh venv of the same base Python without the codesearch package, whose sys.path still
 * reaches the dependencies of CODESEARCH_PYTHON (a .pth line), so that installing the server
 * wheel needs no downloads. Returns its python, or undefined when that cannot be arranged.
 */
function makeBareInterpreter(base) {
  const q = (py, code) => spawnSync(py, ['-c', code], { encoding: 'utf8', timeout: 60_000 });
  const baseExe = q(python, 'import sys; print(getattr(sys, "_base_executable", sys.executable))').stdout?.trim();
  const deps = q(python, 'import sysconfig; print(sysconfig.get_paths()["purelib"])').stdout?.trim();
  if (!baseExe || !deps) {
    log(`install flow: cannot query ${python}`);
    return undefined;
  }
  const venv = path.join(base, 'bare-venv');
  const made = spawnSync(baseExe, ['-m', 'venv', venv], { encoding: 'utf8', timeout: 120_000 });
  const bare = path.join(venv, 'bin', 'python');
  if (made.status !== 0 || !fs.existsSync(bare)) {
    log(`install flow: ${baseExe} -m venv failed: ${(made.stderr || '').trim().slice(-300)}`);
    return undefined;
  }
  const purelib = q(bare, 'import sysconfig; print(sysconfig.get_paths()["purelib"])').stdout?.trim();
  fs.writeFileSync(path.join(purelib, 'codesearch_e2e_deps.pth'), `${deps}\n`);
  if (q(bare, 'import codesearch').status === 0) {
    log(`install flow: codesearch is importable from ${bare} already`);
    return undefined;
  }
  return bare;
}

function writeUserSettings(userDataDir, storeDir, pythonPath = python, extra = {}) {
  const settings = {
    'codesearch.server.pythonPath': pythonPath,
    'codesearch.storeDir': storeDir,
    'codesearch.logLevel': 'debug',
    'security.workspace.trust.enabled': false,
    'workbench.startupEditor': 'none',
    'workbench.secondarySideBar.defaultVisibility': 'hidden',
    'workbench.tips.enabled': false,
    'workbench.enableExperiments': false,
    'workbench.welcomePage.walkthroughs.openOnInstall': false,
    'telemetry.telemetryLevel': 'off',
    'update.mode': 'none',
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'extensions.ignoreRecommendations': true,
    'chat.disableAIFeatures': true,
    'chat.commandCenter.enabled': false,
    'git.enabled': false,
    'editor.minimap.enabled': false,
    // Typing code through the keyboard: no auto indent, no auto-closing, no suggestions.
    'editor.autoIndent': 'none',
    'editor.autoClosingBrackets': 'never',
    'editor.autoClosingQuotes': 'never',
    'editor.autoSurround': 'never',
    'editor.quickSuggestions': { other: false, comments: false, strings: false },
    'editor.suggestOnTriggerCharacters': false,
    'editor.acceptSuggestionOnEnter': 'off',
    'editor.formatOnSave': false,
    'editor.formatOnType': false,
    'files.trimTrailingWhitespace': false,
    'files.insertFinalNewline': false,
    ...extra,
  };
  // code-server is a remote setup: settings of machine scope (such as pythonPath and
  // storeDir) are read from the Machine settings, the others from the User settings.
  for (const scope of ['User', 'Machine']) {
    const dir = path.join(userDataDir, scope);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'settings.json'), JSON.stringify(settings, null, 2));
  }
}

// ---------------------------------------------------------------------------------------------
// Reading the workbench

/** The Codesearch status bar item: its icons (codicon names) and text. */
async function readStatus() {
  return page.evaluate(() => {
    const items = [...document.querySelectorAll('.statusbar-item')];
    const item = items.find((el) => {
      const label = el.querySelector('a, .statusbar-item-label');
      const aria = (label && label.getAttribute('aria-label')) || el.getAttribute('aria-label') || '';
      return (el.id || '').toLowerCase().includes('codesearch') || aria.startsWith('Codesearch');
    });
    if (!item) {
      return null;
    }
    const icons = [...item.querySelectorAll('.codicon')]
      .flatMap((i) => [...i.classList])
      .filter((c) => c.startsWith('codicon-') && c !== 'codicon-modifier-spin')
      .map((c) => c.slice('codicon-'.length));
    const text = (item.textContent || '').replace(/\s+/g, ' ').trim();
    return { id: item.id, icons, text, error: item.classList.contains('error-kind') || /error/i.test(item.style.backgroundColor || '') };
  });
}

const statusKey = (s) => (s ? `[${s.icons.join(',')}] ${s.text}` : '(none)');

function idleCount(s) {
  if (!s || !s.icons.includes('search')) {
    return undefined;
  }
  const m = /^([\d,]+)$/.exec(s.text);
  return m ? Number(m[1].replace(/,/g, '')) : undefined;
}

/** Records every distinct state of the status item, polled every 50 ms in the page. */
async function startStatusRecorder() {
  await page.evaluate(() => {
    const w = window;
    w.__csHistory = [];
    let last = '';
    w.__csRecorder = setInterval(() => {
      const item = [...document.querySelectorAll('.statusbar-item')].find((el) =>
        (el.id || '').toLowerCase().includes('codesearch'),
      );
      if (!item) {
        return;
      }
      const icons = [...item.querySelectorAll('.codicon')]
        .flatMap((i) => [...i.classList])
        .filter((c) => c.startsWith('codicon-') && c !== 'codicon-modifier-spin')
        .map((c) => c.slice('codicon-'.length));
      const key = `[${icons.join(',')}] ${(item.textContent || '').replace(/\s+/g, ' ').trim()}`;
      if (key !== last) {
        last = key;
        w.__csHistory.push(key);
      }
    }, 50);
  });
}

async function quickInputRows() {
  return page.evaluate(() =>
    [...document.querySelectorAll('.quick-input-widget .quick-input-list .monaco-list-row')].map(
      (r) => r.getAttribute('aria-label') || (r.textContent || '').trim(),
    ),
  );
}

async function runCommand(title) {
  await page.keyboard.press('Escape');
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await input.waitFor({ state: 'visible', timeout: T.ui });
  await input.fill(`>${title}`);
  const row = page
    .locator('.quick-input-widget .quick-input-list .monaco-list-row')
    .filter({ hasText: title })
    .first();
  await row.waitFor({ state: 'visible', timeout: T.ui });
  await row.click();
}

/** Whether the command palette lists a command with this title (after typing all of it). */
async function paletteHas(title) {
  await page.keyboard.press('Escape');
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await input.waitFor({ state: 'visible', timeout: T.ui });
  await input.fill(`>${title}`);
  await sleep(700); // let the list settle
  const rows = await quickInputRows();
  await page.keyboard.press('Escape');
  // startsWith: with AI features on, the palette adds rows such as "Ask in Chat: <typed text>"
  return rows.some((r) => r.startsWith(title));
}

/** The "Codesearch" output channel as VS Code has written it so far (client and server log). */
function codesearchLog(userData) {
  const logs = path.join(userData, 'logs');
  if (!fs.existsSync(logs)) {
    return '';
  }
  return fs
    .readdirSync(logs, { recursive: true })
    .map((f) => path.join(logs, String(f)))
    .filter((f) => /Codesearch\.log$/.test(f))
    .map((f) => fs.readFileSync(f, 'utf8'))
    .join('\n');
}

async function activeTab() {
  return page.evaluate(() => {
    const tab = document.querySelector('.editor-group-container.active .tabs-container .tab.active');
    return tab ? tab.getAttribute('aria-label') || tab.textContent || '' : '';
  });
}

async function cursorPosition() {
  return page.evaluate(() => {
    const el = document.getElementById('status.editor.selection');
    const text = el ? el.textContent || '' : '';
    const m = /Ln (\d+), Col (\d+)/.exec(text);
    return m ? { line: Number(m[1]), col: Number(m[2]), text: text.trim() } : null;
  });
}

function lineOf(file, needle) {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const i = lines.findIndex((l) => l.includes(needle));
  if (i < 0) {
    throw new Error(`${needle} not in ${file}`);
  }
  return i + 1;
}

/**
 * Opens Codesearch: Search (from the palette, or with its default keybinding), types `query`,
 * waits for a row containing `expect`.
 */
async function searchFor(query, expect, { viaKeybinding = false } = {}) {
  if (viaKeybinding) {
    await page.keyboard.press('Escape');
    await page.keyboard.press(SEARCH_KEY);
  } else {
    await runCommand('Codesearch: Search');
  }
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await input.waitFor({ state: 'visible', timeout: T.ui });
  // The palette and the search box share one widget: wait until it is the search box.
  let placeholder = '';
  await waitFor(
    'the Codesearch search box',
    async () => {
      placeholder = (await input.getAttribute('placeholder')) || '';
      return /Describe the code you are looking for/.test(placeholder);
    },
    T.ui,
  ).catch(() => {
    throw new StepError(`expected the Codesearch search box, got one with placeholder "${placeholder}"`);
  });
  await page.keyboard.type(query, { delay: 25 });
  const rows = await waitFor(
    `a search result containing ${expect} for "${query}"`,
    async () => {
      const r = await quickInputRows();
      return r.some((x) => x.includes(expect)) ? r : null;
    },
    T.search,
  );
  const rank = rows.findIndex((x) => x.includes(expect)) + 1;
  log(`"${query}": ${expect} is result #${rank} of ${rows.length}; top 3: ${rows.slice(0, 3).map((r) => r.split('\n')[0]).join(' | ')}`);
  return { rows, rank };
}

/** Runs "Codesearch E2E: Probe Agent Tools" and returns what the probe extension wrote. */
async function probeAgents(probeOut) {
  fs.rmSync(probeOut, { force: true });
  await runCommand('Codesearch E2E: Probe Agent Tools');
  const report = await waitFor(
    'the probe extension to write its report',
    () => (fs.existsSync(probeOut) ? JSON.parse(fs.readFileSync(probeOut, 'utf8')) : null),
    150_000,
    500,
  );
  fs.writeFileSync(path.join(artifacts, `probe-${Date.now()}.json`), JSON.stringify(report, null, 2));
  if (report.crashed) {
    throw new StepError(`the probe extension failed: ${report.crashed}`);
  }
  return report;
}

/** Whether this interpreter's codesearch has the `mcp` command (added on another branch). */
function hasMcpCommand() {
  return spawnSync(python, ['-m', 'codesearch', 'mcp', '--help'], { encoding: 'utf8', timeout: 60_000 }).status === 0;
}

async function checkAgentFeatures({ userData, ws, probeOut, defLine }) {
  // VS Code's MCP support (its server list, starting servers) is off while AI features are.
  writeUserSettings(userData, path.join(path.dirname(ws), 'store'), python, { 'chat.disableAIFeatures': false });
  await sleep(2000);
  const report = await probeAgents(probeOut);
  if (!report.tools.includes('codesearch_search')) {
    throw new StepError(`vscode.lm.tools lacks codesearch_search; it lists: ${report.tools.join(', ') || '(nothing)'}`);
  }
  const schemaKeys = Object.keys(report.tool?.inputSchema?.properties ?? {});
  pass(`agents: vscode.lm.tools lists codesearch_search (inputs ${schemaKeys.join(', ')}) among ${report.tools.length} tools`);
  if (!report.invoke.ok) {
    throw new StepError(`vscode.lm.invokeTool(codesearch_search) failed: ${report.invoke.error}`);
  }
  const wanted = `uploads/retry.py:${defLine}`;
  const hitLine = report.invoke.text.split('\n').find((l) => /^\d+\. /.test(l) && l.includes('retry_failed_uploads'));
  if (!hitLine || !hitLine.includes(wanted)) {
    throw new StepError(`the tool's answer has no line for retry_failed_uploads at ${wanted}:\n${report.invoke.text}`);
  }
  pass(`agents: vscode.lm.invokeTool answered from the language server: "${hitLine.trim()}"`);
  if (report.badInput.ok || !/query is required/.test(report.badInput.error)) {
    throw new StepError(`an empty query should fail with "query is required", got ${JSON.stringify(report.badInput)}`);
  }
  pass(`agents: an empty query is refused: "${report.badInput.error.slice(0, 120)}"`);

  // Weak matches, once the server marks them (its hits carry `weak`): the tool's answer and
  // the Search QuickPick say that nothing matches strongly.
  if (/"weak": (true|false)/.test(codesearchLog(userData))) {
    if (!report.unrelated.ok || !/No strong match/.test(report.unrelated.text)) {
      throw new StepError(`the tool's answer to "${UNRELATED_QUERY}" does not say "No strong match":\n${JSON.stringify(report.unrelated)}`);
    }
    pass(`agents: for "${UNRELATED_QUERY}" the tool says: "${report.unrelated.text.split('\n').find((l) => /No strong match/.test(l)).slice(0, 120)}"`);
    const { rows } = await searchFor(UNRELATED_QUERY, 'weak match');
    const title = await waitFor(
      'the search box title to say "No strong match"',
      async () => {
        const t = await page.evaluate(() => document.querySelector('.quick-input-widget .quick-input-title')?.textContent || '');
        return t.includes('No strong match') ? t : null;
      },
      T.ui,
    );
    await screenshot('search-no-strong-match');
    const weakRows = rows.filter((r) => r.includes('weak match'));
    if (weakRows.length !== rows.length) {
      throw new StepError(`every hit for "${UNRELATED_QUERY}" should be marked weak: ${rows.join(' | ')}`);
    }
    await page.keyboard.press('Escape');
    pass(`search: the title reads "${title}" over ${weakRows.length} hits marked "weak match" for "${UNRELATED_QUERY}"`);
  } else {
    log('weak matches not checked: this server sends no `weak` flag on its hits yet (it comes with the engine change)');
  }

  // The MCP server definition: VS Code lists the server the provider returned and ran it (the
  // probe asked it to start every MCP server). With `codesearch mcp` in the interpreter its
  // tools join vscode.lm.tools and its search_code answers; without, the server's output shows
  // the codesearch CLI refusing the `mcp` command, which still proves what VS Code ran.
  await runCommand('MCP: List Servers');
  const servers = await waitFor(
    'the Codesearch entry in "MCP: List Servers"',
    async () => {
      const rows = await quickInputRows();
      return rows.some((r) => r.startsWith('Codesearch')) ? rows : null;
    },
    T.ui,
  );
  const entry = servers.find((r) => r.startsWith('Codesearch'));
  pass(`agents: "MCP: List Servers" lists the provided server: "${entry}"`);
  await screenshot('mcp-servers');
  if (hasMcpCommand()) {
    await page.keyboard.press('Escape');
    const mcp = report.mcp;
    if (!mcp.tool) {
      throw new StepError(`the Codesearch MCP server added no search_code tool to vscode.lm.tools (new tools: ${mcp.newTools.join(', ') || 'none'}; ${mcp.error ?? ''})`);
    }
    if (!mcp.invoke?.ok || !/retry_failed_uploads/.test(mcp.invoke.text)) {
      throw new StepError(`the MCP tool ${mcp.tool} did not find retry_failed_uploads: ${JSON.stringify(mcp.invoke).slice(0, 1500)}`);
    }
    const line = mcp.invoke.text.split('\n').find((l) => l.includes('retry_failed_uploads'));
    pass(`agents: VS Code started the MCP server; its ${mcp.tool} answered through vscode.lm.invokeTool: "${line.trim().slice(0, 160)}"`);
  } else {
    await page.locator('.quick-input-widget .quick-input-list .monaco-list-row').filter({ hasText: /^Codesearch/ }).first().click();
    await page.locator('.quick-input-widget .quick-input-list .monaco-list-row').filter({ hasText: 'Show Output' }).first().click();
    const refusal = await waitFor(
      "the codesearch CLI's answer in the MCP server's output",
      async () => {
        // Monaco draws spaces as no-break spaces and wraps long lines over several rows.
        const text = await page.evaluate(() =>
          [...document.querySelectorAll('.part.panel .view-line')].map((l) => (l.textContent || '').replace(/\u00a0/g, ' ')).join(' '),
        );
        const m = /\[server stderr\]\s*(codesearch: error: argument command: invalid choice: 'mcp'[^)]*\))/.exec(text);
        return m ? m[1] : null;
      },
      T.ui,
    );
    await screenshot('mcp-output');
    log(`${python} has no \`codesearch mcp\` yet (it comes with the MCP branch): the MCP tools are not checked`);
    pass(`agents: VS Code ran the provided \`<python> -m codesearch mcp\`; this codesearch says: "${refusal}"`);
  }

  // codesearch.agentTools.enable off: the tool and the MCP server are gone.
  writeUserSettings(userData, path.join(path.dirname(ws), 'store'), python, {
    'chat.disableAIFeatures': false,
    'codesearch.agentTools.enable': false,
  });
  // vscode.lm.tools lists contributed tools whatever their `when` clause (which hides the tool
  // from chat), so what an extension can observe is that no implementation answers any more.
  const off = await waitFor(
    'vscode.lm.invokeTool(codesearch_search) to fail after codesearch.agentTools.enable is set to false',
    async () => {
      const r = await probeAgents(probeOut);
      return r.invoke.ok ? null : r;
    },
    60_000,
    1000,
  );
  if (!/implementation/.test(off.invoke.error)) {
    throw new StepError(`with codesearch.agentTools.enable off the tool should have no implementation; invokeTool said: ${off.invoke.error}`);
  }
  await runCommand('MCP: List Servers');
  await waitFor(
    'the Codesearch entry to leave "MCP: List Servers"',
    async () => {
      const rows = await quickInputRows();
      return rows.length > 0 && !rows.some((r) => r.startsWith('Codesearch'));
    },
    T.ui,
  );
  await page.keyboard.press('Escape');
  pass(`agents: with codesearch.agentTools.enable off the MCP server leaves the list and the tool no longer answers ("${off.invoke.error.slice(0, 100)}")`);
  writeUserSettings(userData, path.join(path.dirname(ws), 'store'));
}

// ---------------------------------------------------------------------------------------------

async function main() {
  fs.rmSync(artifacts, { recursive: true, force: true });
  fs.mkdirSync(artifacts, { recursive: true });

  log(`tools cache: ${cacheDir}`);
  const installStart = Date.now();
  const tools = ensureTools(cacheDir, (m) => log(m));
  log(`tools ready (${((Date.now() - installStart) / 1000).toFixed(0)} s${tools.installedNow ? ', installed now' : ', cached'})`);

  const runStart = Date.now();
  const watchdog = setTimeout(() => {
    console.error(`[e2e] FAIL: the run exceeded its budget of ${RUN_BUDGET_MS / 60_000} minutes`);
    void cleanup().finally(() => process.exit(1));
  }, RUN_BUDGET_MS);

  if (process.env.E2E_SKIP_PACKAGE === '1' && fs.existsSync(vsix)) {
    log(`reusing ${path.relative(repo, vsix)}`);
  } else {
    log('npm run package');
    const res = spawnSync('npm', ['run', 'package'], { cwd: repo, encoding: 'utf8', timeout: 180_000, env: { ...process.env, CODESEARCH_PYTHON: python } });
    fs.writeFileSync(path.join(artifacts, 'package.log'), `${res.stdout}\n${res.stderr}`);
    if (res.status !== 0) {
      throw new StepError(`npm run package failed; see ${path.relative(repo, artifacts)}/package.log`);
    }
  }

  log(`python: ${python}`);
  const probe = spawnSync(python, ['-c', 'import codesearch.lsp.server'], { encoding: 'utf8', timeout: 120_000 });
  const serverImportable = probe.status === 0;
  if (!serverImportable) {
    log(`the server does not import in ${python}: ${(probe.stderr || probe.error?.message || '').trim().split('\n').pop()}`);
  }

  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'codesearch-e2e-'));
  if (process.env.E2E_KEEP !== '1') {
    cleanups.push(() => fs.rmSync(base, { recursive: true, force: true }));
  } else {
    log(`keeping ${base}`);
  }
  const userData = path.join(base, 'user-data');
  const extensions = path.join(base, 'extensions');
  const ws = prepareWorkspace(base);
  writeUserSettings(userData, path.join(base, 'store'));
  const probeOut = path.join(base, 'probe.json');

  const env24 = {
    ...process.env,
    PATH: `${tools.nodeBinDir}${path.delimiter}${process.env.PATH ?? ''}`,
    // code-server must not pick up the editor session this may run from.
    VSCODE_IPC_HOOK_CLI: '',
    CODESEARCH_E2E: '1',
    // where the probe extension writes what it saw (read by probeAgents)
    CODESEARCH_E2E_PROBE_OUT: probeOut,
  };
  const csArgs = ['--user-data-dir', userData, '--extensions-dir', extensions];
  log('installing the .vsix into code-server');
  const inst = spawnSync(tools.node24, [tools.codeServerEntry, ...csArgs, '--install-extension', vsix], {
    encoding: 'utf8',
    env: env24,
    timeout: 120_000,
  });
  fs.writeFileSync(path.join(artifacts, 'install-extension.log'), `${inst.stdout}\n${inst.stderr}`);
  if (inst.status !== 0 || !fs.readdirSync(extensions).some((d) => d.startsWith('codesearch.codesearch'))) {
    throw new StepError(`installing the .vsix failed: ${(inst.stderr || inst.stdout).trim().slice(-800)}`);
  }

  log('packaging and installing the test-only probe extension');
  const probeVsix = path.join(base, 'codesearch-e2e-probe.vsix');
  const packed = spawnSync(path.join(repo, 'node_modules', '.bin', 'vsce'), ['package', '--no-dependencies', '--out', probeVsix], {
    cwd: probeDir,
    encoding: 'utf8',
    timeout: 120_000,
  });
  const probeInst = packed.status === 0
    ? spawnSync(tools.node24, [tools.codeServerEntry, ...csArgs, '--install-extension', probeVsix], { encoding: 'utf8', env: env24, timeout: 120_000 })
    : packed;
  fs.writeFileSync(path.join(artifacts, 'install-probe.log'), `${packed.stdout}\n${packed.stderr}\n${probeInst.stdout}\n${probeInst.stderr}`);
  if (probeInst.status !== 0) {
    throw new StepError(`packaging or installing the probe extension failed; see ${path.relative(repo, artifacts)}/install-probe.log`);
  }

  const port = await freePort();
  log(`starting code-server on 127.0.0.1:${port}`);
  const csLog = fs.openSync(path.join(artifacts, 'code-server.log'), 'w');
  const cs = spawn(
    tools.node24,
    [
      tools.codeServerEntry,
      '--bind-addr', `127.0.0.1:${port}`,
      '--auth', 'none',
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--disable-getting-started-override',
      ...csArgs,
      ws,
    ],
    { env: env24, detached: true, stdio: ['ignore', csLog, csLog] },
  );
  cleanups.push(() => copyLogs(userData));
  cleanups.push(() => stopProcessGroup(cs.pid, 'code-server'));
  await waitFor(
    'code-server to answer /healthz',
    async () => {
      if (cs.exitCode !== null) {
        throw new StepError(`code-server exited with ${cs.exitCode}; see code-server.log`);
      }
      const res = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => null);
      return res && res.ok;
    },
    60_000,
  );

  const require = createRequire(path.join(tools.playwrightDir, 'package.json'));
  const { chromium } = require(tools.playwrightDir);
  const browser = await chromium.launch({
    executablePath: tools.chromium,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
    timeout: 60_000,
  });
  cleanups.push(() => Promise.race([browser.close(), sleep(10_000)]));
  const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
  page = await context.newPage();
  page.setDefaultTimeout(T.ui);
  await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(ws)}`, { timeout: 60_000 });

  // Step 1: the workbench renders with the workspace and the extension's status item.
  await page.locator('.monaco-workbench .part.statusbar').waitFor({ state: 'visible', timeout: T.workbench });
  await page.locator('.explorer-folders-view, .explorer-viewlet').first().waitFor({ state: 'visible', timeout: T.workbench }).catch(() => undefined);
  await waitFor('the Codesearch status bar item', readStatus, T.workbench);
  await startStatusRecorder();
  log(`workbench rendered; status item: ${statusKey(await readStatus())}`);
  await screenshot('workbench');

  if (!serverImportable) {
    // Without a server, check the extension says so, then stop.
    const s = await waitFor(
      'the error state of the status item',
      async () => {
        const st = await readStatus();
        return st && st.icons.includes('error') ? st : null;
      },
      60_000,
    );
    log(`status item shows the error state: ${statusKey(s)}`);
    await screenshot('server-missing');
    return 2;
  }

  // Step 2: indexing, then the idle count.
  let sawIndexingShot = false;
  const firstCount = await waitFor(
    'the idle entity count in the status bar',
    async () => {
      const s = await readStatus();
      if (!sawIndexingShot && s && /Indexing/.test(s.text)) {
        sawIndexingShot = true;
        await screenshot('indexing');
      }
      if (s && s.icons.includes('error')) {
        throw new StepError(`the status item shows an error: ${statusKey(s)}`);
      }
      return idleCount(s);
    },
    T.firstIdle,
  );
  const history = await page.evaluate(() => window.__csHistory);
  log(`status history: ${history.join('  ->  ')}`);
  const idleAt = history.findIndex((h) => /^\[search\] [\d,]+$/.test(h));
  const indexingBefore = history.slice(0, idleAt < 0 ? history.length : idleAt).some((h) => /Indexing/.test(h));
  if (!indexingBefore) {
    throw new StepError(`the status bar never showed "Indexing" before the idle count (history: ${history.join(' -> ')})`);
  }
  pass(`status bar: indexing -> idle with ${firstCount} entities`);
  await screenshot('idle');

  // Step 3: search by meaning and open the hit.
  const retryFile = path.join(ws, 'uploads', 'retry.py');
  const defLine = lineOf(retryFile, 'def retry_failed_uploads');
  const { rank } = await searchFor('retry failed uploads', 'retry_failed_uploads', { viaKeybinding: true });
  await screenshot('search-results');
  if (rank > 3) {
    throw new StepError(`retry_failed_uploads is result #${rank}, expected in the top 3`);
  }
  await page.locator('.quick-input-widget .quick-input-list .monaco-list-row').filter({ hasText: 'retry_failed_uploads' }).first().click();
  await waitFor('the editor tab retry.py', async () => /retry\.py/.test(await activeTab()), T.ui);
  let lastPos = null;
  const pos = await waitFor(
    `the cursor on line ${defLine}, the def of retry_failed_uploads`,
    async () => {
      lastPos = await cursorPosition();
      return lastPos && lastPos.line === defLine ? lastPos : null;
    },
    T.ui,
  ).catch(async (err) => {
    await screenshot('opened-wrong-line');
    throw new StepError(`${err.message}; the cursor is at ${lastPos ? lastPos.text : 'an unknown position'}`);
  });
  pass(`search (opened with ${SEARCH_KEY}): opened retry.py at line ${pos.line} (${pos.text})`);
  await screenshot('search-opened');

  // Step 3b: Find Similar for the function at the cursor.
  await runCommand('Codesearch: Find Similar');
  const similar = await waitFor(
    'the Find Similar results',
    async () => {
      const title = await page.evaluate(() => document.querySelector('.quick-input-widget .quick-input-title')?.textContent || '');
      const rows = await quickInputRows();
      return title.includes(`similar to the code at retry.py:${defLine}`) && rows.length > 0 ? rows : null;
    },
    T.search,
  );
  await screenshot('find-similar');
  if (similar.some((r) => /\bretry_failed_uploads\b/.test(r.split(',')[0]))) {
    throw new StepError('Find Similar listed the function it started from');
  }
  pass(`find similar: ${similar.length} results, top: ${similar[0].split('\n')[0].slice(0, 120)}`);
  await page.keyboard.press('Escape');


  // Step 4: add a function, save, and see it indexed.
  await page.keyboard.press('Escape');
  await page.keyboard.press('Control+P');
  const qi = page.locator('.quick-input-widget .quick-input-box input');
  await qi.waitFor({ state: 'visible', timeout: T.ui });
  await page.keyboard.type('invoice.py', { delay: 20 });
  await page.locator('.quick-input-widget .quick-input-list .monaco-list-row').filter({ hasText: 'invoice.py' }).first().waitFor({ timeout: T.ui });
  await page.keyboard.press('Enter');
  await waitFor('the editor tab invoice.py', async () => /invoice\.py/.test(await activeTab()), T.ui);
  // Click into the text (newer VS Code edits through an EditContext, not a textarea).
  await page.locator('.editor-group-container.active .monaco-editor .view-lines').first().click();
  await page.keyboard.press('Control+End');
  const added = [
    '',
    '',
    'def compute_invoice_total(line_items, tax_rate=0.2):',
    '    """Add up the price of every line item on an invoice and add sales tax."""',
    '    subtotal = sum(item.price * item.quantity for item in line_items)',
    '    return round(subtotal * (1 + tax_rate), 2)',
    '',
  ].join('\n');
  await page.keyboard.type(added, { delay: 5 });
  await screenshot('edited');
  await page.keyboard.press('Control+S');
  const invoiceFile = path.join(ws, 'billing', 'invoice.py');
  await waitFor('invoice.py to be saved with the new function', () => fs.readFileSync(invoiceFile, 'utf8').includes('def compute_invoice_total(line_items, tax_rate=0.2):\n    """Add up'), T.ui);
  const newCount = await waitFor(
    `the entity count to grow past ${firstCount}`,
    async () => {
      const c = idleCount(await readStatus());
      return c !== undefined && c > firstCount ? c : null;
    },
    T.reindexAfterSave,
  );
  pass(`save: the status count went from ${firstCount} to ${newCount}`);
  await screenshot('reindexed-after-save');
  const found = await searchFor('add sales tax to an invoice', 'compute_invoice_total');
  await screenshot('search-new-function');
  if (found.rank > 3) {
    throw new StepError(`compute_invoice_total is result #${found.rank}, expected in the top 3`);
  }
  await page.keyboard.press('Escape');
  pass('save: the new function is found by search');

  // Step 4b: what the server heard of the editor's documents: the save, never the text of a
  // file opened or typed into (retry.py and invoice.py were opened, invoice.py typed into).
  const heard = await waitFor(
    "the server's debug log line for the save",
    () => {
      const text = codesearchLog(userData);
      return /Notification 'textDocument\/didSave' received/.test(text) ? text : null;
    },
    T.ui,
  );
  const saves = (heard.match(/Notification 'textDocument\/didSave' received/g) || []).length;
  const texts = heard.match(/Notification 'textDocument\/did(Open|Change|Close)' received/g) || [];
  if (texts.length > 0) {
    throw new StepError(`the editor sent document text the server does not use: ${[...new Set(texts)].join(', ')} (${texts.length} in all)`);
  }
  pass(`document sync: the server heard ${saves} didSave and no didOpen, didChange or didClose`);

  // Step 4c: Pause and Resume from the palette. While paused a new file waits; resuming
  // indexes it.
  for (const title of ['Codesearch: Pause Indexing', 'Codesearch: Show Actions Menu', 'Codesearch: Find Similar']) {
    if (!(await paletteHas(title))) {
      throw new StepError(`the command palette does not list "${title}"`);
    }
  }
  if (await paletteHas('Codesearch: Resume Indexing')) {
    throw new StepError('the palette offers "Resume Indexing" while indexing is not paused');
  }
  await runCommand('Codesearch: Pause Indexing');
  await waitFor(
    'the status item to show Paused',
    async () => {
      const s = await readStatus();
      return s && s.icons.includes('debug-pause') && /Paused/.test(s.text);
    },
    T.ui,
  );
  await screenshot('paused');
  fs.writeFileSync(
    path.join(ws, 'billing', 'refunds.py'),
    'def refund_damaged_order(order):\n    """Refund an order that arrived damaged."""\n    return order.total\n',
  );
  await sleep(3000);
  const whilePaused = await readStatus();
  if (!whilePaused || !/Paused/.test(whilePaused.text)) {
    throw new StepError(`a new file ended the pause: status ${statusKey(whilePaused)}`);
  }
  if (!(await paletteHas('Codesearch: Resume Indexing')) || (await paletteHas('Codesearch: Pause Indexing'))) {
    throw new StepError('while paused the palette should offer Resume Indexing and not Pause Indexing');
  }
  await runCommand('Codesearch: Resume Indexing');
  const afterResume = await waitFor(
    `the entity count to grow past ${newCount} after resuming`,
    async () => {
      const c = idleCount(await readStatus());
      return c !== undefined && c > newCount ? c : null;
    },
    T.reindexAfterSave,
  );
  pass(`pause/resume: "Paused" held while refunds.py appeared; resuming indexed it (${newCount} -> ${afterResume} entities)`);
  await screenshot('resumed');

  // Step 5: the broken file's diagnostic in the Problems panel.
  await runCommand('View: Focus Problems');
  const problem = await waitFor(
    'a codesearch diagnostic for broken_encoding.py in the Problems panel',
    async () => {
      const rows = await page.evaluate(() =>
        [...document.querySelectorAll('.markers-panel .monaco-list-row, .markers-panel-container .monaco-list-row')].map(
          (r) => (r.getAttribute('aria-label') || '') + ' || ' + (r.textContent || ''),
        ),
      );
      const fileRow = rows.some((r) => r.includes('broken_encoding.py'));
      const marker = rows.find((r) => /codesearch/i.test(r) && !r.startsWith('broken_encoding.py'));
      return fileRow && marker ? marker : null;
    },
    T.problems,
  );
  pass(`problems: ${problem.replace(/\s+/g, ' ').slice(0, 200)}`);
  await screenshot('problems');

  // Step 6: the status item's menu, and a reindex from it.
  await page.keyboard.press('Escape');
  await page.locator('.statusbar-item[id*="codesearch" i]').first().click();
  const menu = await waitFor(
    'the Codesearch menu',
    async () => {
      const rows = await quickInputRows();
      return ['Search', 'Reindex', 'Force Full Reindex', 'Pause Indexing', 'Show Logs'].every((e) => rows.some((r) => r.includes(e))) ? rows : null;
    },
    T.ui,
  );
  log(`status menu: ${menu.map((r) => r.replace(/^\S+\s+/, '').split(',')[0]).join(' | ')}`);
  await screenshot('status-menu');
  await page.locator('.quick-input-widget .quick-input-list .monaco-list-row').filter({ hasText: /^\S*\s*Reindex/ }).first().click();
  const toast = await waitFor(
    'the reindex summary notification',
    () =>
      page.evaluate(() =>
        [...document.querySelectorAll('.notifications-toasts .notification-list-item-message')]
          .map((n) => n.textContent || '')
          .find((t) => t.includes('Codesearch: indexed')),
      ),
    T.reindexAfterSave,
  );
  pass(`menu: Reindex from the status item -> "${toast.trim()}"`);
  await screenshot('reindex-done');

  // Step 6b: agents. The language model tool is in vscode.lm.tools and vscode.lm.invokeTool
  // answers from the language server; VS Code lists and starts the MCP server the extension
  // provides; the setting turns both off. Late in the run, since it turns VS Code's AI features
  // on (its MCP support needs them), which adds "Ask in Chat" rows to the palette.
  await checkAgentFeatures({ userData, ws, probeOut, defLine });

  // Step 7: pointing codesearch.server.pythonPath at an interpreter without the server restarts
  // the client, which reports the missing server; its "Install Server" pip-installs the wheel
  // shipped in the .vsix and the server comes back.
  const bare = makeBareInterpreter(base);
  if (!bare) {
    log('SKIP install flow: could not make an interpreter without the server (see above)');
  } else {
    writeUserSettings(userData, path.join(base, 'store'), bare);
    const toast = page.locator('.notification-toast').filter({ hasText: 'the server is not installed in' });
    await toast.first().waitFor({ state: 'visible', timeout: 90_000 });
    const st = await waitFor(
      'the error state after switching the interpreter',
      async () => {
        const s = await readStatus();
        return s && s.icons.includes('error') ? s : null;
      },
      T.ui,
    );
    log(`interpreter switched to ${bare}: status ${statusKey(st)}, error message shown`);
    await screenshot('server-missing');
    await toast.first().locator('.monaco-button', { hasText: 'Install Server' }).click();
    const count = await waitFor(
      'the server to be installed, started, and idle again',
      async () => idleCount(await readStatus()),
      240_000,
      500,
    );
    const installed = spawnSync(bare, ['-c', 'import codesearch.lsp.server'], { encoding: 'utf8' });
    if (installed.status !== 0) {
      throw new StepError(`"Install Server" finished but the server does not import in ${bare}`);
    }
    pass(`install flow: switching the interpreter restarted the client; "Install Server" installed the wheel and the index is back at ${count} entities`);
    await screenshot('installed-and-idle');
  }

  clearTimeout(watchdog);
  log(`run phase took ${((Date.now() - runStart) / 1000).toFixed(0)} s`);
  return 0;
}

function stopProcessGroup(pid, name) {
  return new Promise((resolve) => {
    if (!pid) {
      resolve();
      return;
    }
    const alive = () => {
      try {
        process.kill(-pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    try {
      process.kill(-pid, 'SIGTERM');
    } catch {
      resolve();
      return;
    }
    const deadline = Date.now() + 8000;
    const tick = () => {
      if (!alive()) {
        resolve();
      } else if (Date.now() > deadline) {
        log(`${name} (process group ${pid}) ignored SIGTERM: SIGKILL`);
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // gone
        }
        resolve();
      } else {
        setTimeout(tick, 200);
      }
    };
    tick();
  });
}

/** The end of the "Codesearch" output channel (client and server log), to explain a failure. */
function printServerLogTail() {
  const logs = path.join(artifacts, 'vscode-logs');
  if (!fs.existsSync(logs)) {
    return;
  }
  const file = fs
    .readdirSync(logs, { recursive: true })
    .map((f) => path.join(logs, String(f)))
    .find((f) => /Codesearch\.log$/.test(f));
  if (!file) {
    return;
  }
  const lines = fs.readFileSync(file, 'utf8').split('\n').filter((l) => !/ DEBUG /.test(l));
  console.error(`--- last lines of the Codesearch output channel (${path.relative(repo, file)}) ---`);
  console.error(lines.slice(-30).join('\n'));
  console.error('---');
}

function copyLogs(userData) {
  const src = path.join(userData, 'logs');
  if (fs.existsSync(src)) {
    fs.cpSync(src, path.join(artifacts, 'vscode-logs'), { recursive: true });
  }
}

let cleaning;
function cleanup() {
  cleaning ??= (async () => {
    for (const fn of [...cleanups].reverse()) {
      try {
        await fn();
      } catch (err) {
        log(`cleanup: ${err.message}`);
      }
    }
  })();
  return cleaning;
}

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    console.error(`[e2e] ${sig}: cleaning up`);
    void cleanup().finally(() => process.exit(1));
  });
}

let code = 1;
try {
  code = await main();
  if (code === 0) {
    console.log(`[e2e ${stamp()}] PASSED: all real-editor checks passed (artifacts in ${path.relative(repo, artifacts)})`);
  } else if (code === 2) {
    console.error(`[e2e ${stamp()}] INCOMPLETE: code-server, the .vsix and the workbench work, but the Codesearch server does not import in ${python}; the server checks did not run`);
  }
} catch (err) {
  await screenshot('failure');
  console.error(`[e2e ${stamp()}] FAIL: ${err instanceof StepError ? err.message : err.stack || err}`);
  code = 1;
} finally {
  await cleanup();
}
if (code !== 0) {
  printServerLogTail();
}
console.log(`e2e_vscode: ${passed} passed, ${code === 0 ? 0 : 1} failed`);
process.exit(code);
