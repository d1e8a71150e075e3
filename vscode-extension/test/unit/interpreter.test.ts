import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, test } from 'node:test';
import {
  classifyProbe,
  compareVersions,
  defaultPython,
  type Interpreter,
  parseProbeOutput,
  pickServerWheel,
  pipInstallArgs,
  PROBE_MARKER,
  PROBE_SCRIPT,
  probeMessage,
  type ProbeOutcome,
  resolveInterpreter,
  versionAtLeast,
} from '../../src/logic/interpreter';

describe('resolveInterpreter', () => {
  test('the setting wins over the Python extension and the default', () => {
    assert.deepEqual(resolveInterpreter({ settingPath: '/opt/py/bin/python', pythonExtensionPath: '/env/bin/python' }), {
      path: '/opt/py/bin/python',
      source: 'setting',
    });
  });
  test("then the Python extension's environment", () => {
    assert.deepEqual(resolveInterpreter({ settingPath: '  ', pythonExtensionPath: '/env/bin/python' }), {
      path: '/env/bin/python',
      source: 'pythonExtension',
    });
  });
  test('then python3 (python on Windows)', () => {
    assert.deepEqual(resolveInterpreter({ platform: 'linux' }), { path: 'python3', source: 'default' });
    assert.deepEqual(resolveInterpreter({ platform: 'win32' }), { path: 'python', source: 'default' });
    assert.equal(defaultPython('darwin'), 'python3');
  });
  test('the setting may use ${workspaceFolder}, ~ and relative paths', () => {
    const paths = { workspaceFolder: '/ws', home: '/home/ada' };
    assert.equal(resolveInterpreter({ settingPath: '${workspaceFolder}/.venv/bin/python', paths }).path, '/ws/.venv/bin/python');
    assert.equal(resolveInterpreter({ settingPath: '.venv/bin/python', paths }).path, '/ws/.venv/bin/python');
    assert.equal(resolveInterpreter({ settingPath: '~/py/bin/python3', paths }).path, '/home/ada/py/bin/python3');
    assert.equal(resolveInterpreter({ settingPath: 'python3.12', paths }).path, 'python3.12');
  });
});

describe('probe output', () => {
  const line = (info: object): string => `${PROBE_MARKER}${JSON.stringify(info)}`;
  const ok = { version: [3, 11, 7], executable: '/v/bin/python', server: true, error: null, serverVersion: '0.1.0' };

  test('ignores noise around the marker line', () => {
    const info = parseProbeOutput(`some warning\n${line(ok)}\n`);
    assert.deepEqual(info, { ...ok, version: [3, 11, 7] });
  });
  test('rejects output without a valid marker line', () => {
    assert.equal(parseProbeOutput('Python 3.11.7'), undefined);
    assert.equal(parseProbeOutput(`${PROBE_MARKER}{not json`), undefined);
    assert.equal(parseProbeOutput(line({ version: 'x' })), undefined);
  });

  test('classifies the outcomes', () => {
    const run = (stdout: string, extra: object = {}) => classifyProbe({ exitCode: 0, stdout, stderr: '', ...extra });
    assert.equal(run(line(ok)).kind, 'ok');
    assert.equal(run(line({ ...ok, version: [3, 9, 18], server: false })).kind, 'tooOld');
    assert.equal(run(line({ ...ok, server: false, error: "ModuleNotFoundError: No module named 'codesearch'" })).kind, 'serverMissing');
    assert.equal(run('', { spawnError: { code: 'ENOENT', message: 'spawn python9 ENOENT' } }).kind, 'notFound');
    assert.equal(run('', { spawnError: { code: 'ETIMEDOUT', message: 'timed out' } }).kind, 'failed');
    const crashed = run('', { exitCode: 1, stderr: 'Traceback...\nSyntaxError: invalid syntax' });
    assert.equal(crashed.kind, 'failed');
    assert.match((crashed as { detail: string }).detail, /SyntaxError/);
  });

  test('versionAtLeast', () => {
    assert.equal(versionAtLeast([3, 10, 0]), true);
    assert.equal(versionAtLeast([3, 13]), true);
    assert.equal(versionAtLeast([3, 9, 18]), false);
    assert.equal(versionAtLeast([2, 7, 18]), false);
    assert.equal(versionAtLeast([4, 0, 0]), true);
  });

  const python = ['/tmp/venv0/bin/python', '/usr/bin/python3'].find((p) => existsSync(p));
  test('the probe script runs in a real interpreter', { skip: python === undefined }, () => {
    const result = spawnSync(python as string, ['-c', PROBE_SCRIPT], { encoding: 'utf8', timeout: 60_000 });
    const info = parseProbeOutput(result.stdout);
    assert.ok(info, `no probe line in: ${result.stdout} ${result.stderr}`);
    assert.equal(info.version[0], 3);
    assert.ok(info.executable.length > 0);
    assert.equal(typeof info.server, 'boolean');
    if (!info.server) {
      assert.ok(info.error, 'a failed import reports its error');
    }
  });
});

describe('probeMessage', () => {
  const interp: Interpreter = { path: '/usr/bin/python3', source: 'default' };
  const info = { version: [3, 11, 2] as [number, number, number], executable: '/usr/bin/python3', server: false, error: null, serverVersion: null };
  const outcomes: Exclude<ProbeOutcome, { kind: 'ok' }>[] = [
    { kind: 'notFound', detail: 'ENOENT' },
    { kind: 'failed', detail: 'boom' },
    { kind: 'tooOld', info: { ...info, version: [3, 8, 10] } },
    { kind: 'serverMissing', info },
  ];

  test('every message offers Show Logs and Select Interpreter', () => {
    for (const outcome of outcomes) {
      const msg = probeMessage(interp, outcome, true);
      assert.ok(msg.actions.includes('Show Logs'), outcome.kind);
      assert.ok(msg.actions.includes('Select Interpreter'), outcome.kind);
      assert.match(msg.message, /\/usr\/bin\/python3/);
      assert.ok(msg.reason.length > 0);
    }
  });
  test('Install Server only when the server is missing and a wheel ships', () => {
    assert.deepEqual(probeMessage(interp, outcomes[3], true).actions, ['Install Server', 'Select Interpreter', 'Show Logs']);
    assert.deepEqual(probeMessage(interp, outcomes[3], false).actions, ['Select Interpreter', 'Show Logs']);
    assert.ok(!probeMessage(interp, outcomes[2], true).actions.includes('Install Server'));
  });
  test('too old names both versions', () => {
    const msg = probeMessage(interp, outcomes[2], true);
    assert.match(msg.message, /3\.10 or newer/);
    assert.match(msg.message, /3\.8\.10/);
  });
});

describe('server wheel', () => {
  test('picks the newest codesearch wheel', () => {
    assert.equal(
      pickServerWheel(['README', 'codesearch-0.9.1-py3-none-any.whl', 'codesearch-0.10.0-py3-none-any.whl', 'other-1.0-py3-none-any.whl']),
      'codesearch-0.10.0-py3-none-any.whl',
    );
    assert.equal(pickServerWheel(['notes.txt']), undefined);
  });
  test('compareVersions', () => {
    assert.ok(compareVersions('0.10.0', '0.9.9') > 0);
    assert.equal(compareVersions('1.0', '1.0.0'), 0);
    assert.ok(compareVersions('1.0.0', '1.0.1') < 0);
  });
  test('pip arguments', () => {
    assert.deepEqual(pipInstallArgs('/x/codesearch-0.1.0-py3-none-any.whl'), [
      '-m', 'pip', 'install', '--upgrade', '--disable-pip-version-check', '/x/codesearch-0.1.0-py3-none-any.whl',
    ]);
  });
});
