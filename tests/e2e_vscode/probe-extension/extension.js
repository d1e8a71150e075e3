// Test-only extension of the real-editor test (tests/e2e_vscode/run.mjs), never shipped.
// "Codesearch E2E: Probe Agent Tools" calls the VS Code language model APIs from inside
// VS Code, as chat and agent mode would, and writes what it saw as JSON to the file named by
// $CODESEARCH_E2E_PROBE_OUT (run.mjs reads it):
//   tools       the names in vscode.lm.tools, and the Codesearch tool's entry
//   invoke      vscode.lm.invokeTool('codesearch_search', {query: ...}): the text parts, or the error
//   badInput    the same with an empty query: the error the model would see
//   unrelated   the same with a query for code the fixture does not hold
//   mcp         after asking VS Code to start every MCP server (`workbench.mcp.startServer`),
//               the names of the tools that joined vscode.lm.tools, and the answer of the
//               Codesearch MCP server's search_code tool to the same query
const vscode = require('vscode');
const fs = require('fs');

const TOOL = 'codesearch_search';
const UNRELATED_QUERY = 'simulate quantum chromodynamics on a lattice';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function withTimeout(promise, ms, what) {
  return Promise.race([
    promise,
    new Promise((_, reject) => setTimeout(() => reject(new Error(`${what} took longer than ${ms / 1000} s`)), ms)),
  ]);
}

function invoke(input) {
  return invokeNamed(TOOL, input);
}

async function invokeNamed(name, input) {
  try {
    const result = await withTimeout(
      Promise.resolve(vscode.lm.invokeTool(name, { input, toolInvocationToken: undefined })),
      60_000,
      'invokeTool',
    );
    const text = result.content
      .filter((part) => part instanceof vscode.LanguageModelTextPart)
      .map((part) => part.value)
      .join('\n');
    return { ok: true, text, parts: result.content.length };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}

function toolNames() {
  return vscode.lm.tools.map((t) => t.name);
}

async function probe() {
  const out = process.env.CODESEARCH_E2E_PROBE_OUT;
  const report = { startedAt: new Date().toISOString() };
  // The tool list can trail the extension's registration by a moment.
  for (let i = 0; i < 40 && !toolNames().includes(TOOL); i++) {
    await sleep(250);
  }
  report.tools = toolNames();
  const info = vscode.lm.tools.find((t) => t.name === TOOL);
  report.tool = info ? { name: info.name, tags: info.tags, inputSchema: info.inputSchema } : null;
  const query = process.env.CODESEARCH_E2E_PROBE_QUERY || 'retry failed uploads';
  report.invoke = await invoke({ query, limit: 5 });
  report.badInput = await invoke({ query: '' });
  // Code the fixture does not hold: every match should be weak.
  report.unrelated = await invoke({ query: UNRELATED_QUERY, limit: 5 });
  const before = new Set(toolNames());
  try {
    await withTimeout(
      Promise.resolve(vscode.commands.executeCommand('workbench.mcp.startServer', '*', { waitForLiveTools: true })),
      90_000,
      'starting the MCP servers',
    );
    report.mcp = { started: true };
  } catch (err) {
    report.mcp = { started: false, error: err instanceof Error ? err.message : String(err) };
  }
  // MCP tools reach vscode.lm.tools shortly after the server lists them.
  for (let i = 0; i < 20 && !toolNames().some((n) => !before.has(n)); i++) {
    await sleep(250);
  }
  report.mcp.newTools = toolNames().filter((n) => !before.has(n));
  // A search through the Codesearch MCP server, when it added its tools.
  const searchCode = report.mcp.newTools.find((n) => /search_code/.test(n));
  if (searchCode) {
    report.mcp.tool = searchCode;
    report.mcp.invoke = await invokeNamed(searchCode, { query, limit: 3 });
  }
  report.finishedAt = new Date().toISOString();
  fs.writeFileSync(`${out}.tmp`, JSON.stringify(report, null, 2));
  fs.renameSync(`${out}.tmp`, out);
}

function activate(context) {
  context.subscriptions.push(
    vscode.commands.registerCommand('codesearchE2e.probeAgents', () =>
      probe().catch((err) => {
        const out = process.env.CODESEARCH_E2E_PROBE_OUT;
        if (out) {
          fs.writeFileSync(out, JSON.stringify({ crashed: String(err && err.stack ? err.stack : err) }));
        }
      }),
    ),
  );
}

module.exports = { activate, deactivate() {} };
