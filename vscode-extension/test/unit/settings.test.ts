import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import {
  classifyConfigChange,
  expandPath,
  normalizeLogLevel,
  SERVER_SETTING_DEFAULTS,
  SERVER_SETTING_KEYS,
  serverArgs,
  toServerSettings,
} from '../../src/logic/settings';

const ctx = { workspaceFolder: '/ws/project', home: '/home/ada', env: { CACHE: '/var/cache' } };

describe('toServerSettings', () => {
  test('unset values become the PROTOCOL.md defaults', () => {
    assert.deepEqual(toServerSettings(() => undefined, ctx), { ...SERVER_SETTING_DEFAULTS, exclude: [] });
  });

  test('sends exactly the protocol keys, never client-only settings', () => {
    const values: Record<string, unknown> = {
      enable: false,
      model: 'sentence-transformers/all-mpnet-base-v2',
      exclude: ['generated/**', '  ', '*.min.js'],
      maxFileSize: 2048,
      batchSize: 8,
      storeDir: '',
      threads: 2,
      backend: 'torch',
      embedUrl: 'http://gpu-box:8080/v1',
      embedModel: 'bge-small',
      embedApiKeyEnv: 'TEAM_EMBED_KEY',
      embedBatchSize: 32,
      embedConcurrency: 8,
      sharedCache: 'redis://cache:6379/0',
      sharedCachePrefix: 'team-a',
      'server.pythonPath': '/usr/bin/python3',
      logLevel: 'debug',
    };
    const out = toServerSettings((k) => values[k], ctx);
    assert.deepEqual(Object.keys(out).sort(), [...SERVER_SETTING_KEYS].sort());
    assert.deepEqual(out, {
      enable: false,
      model: 'sentence-transformers/all-mpnet-base-v2',
      exclude: ['generated/**', '*.min.js'],
      maxFileSize: 2048,
      batchSize: 8,
      storeDir: '',
      threads: 2,
      backend: 'torch',
      embedUrl: 'http://gpu-box:8080/v1',
      embedModel: 'bge-small',
      embedApiKeyEnv: 'TEAM_EMBED_KEY',
      embedBatchSize: 32,
      embedConcurrency: 8,
      sharedCache: 'redis://cache:6379/0',
      sharedCachePrefix: 'team-a',
    });
  });

  test('backend defaults to onnx-int8 when unset and passes a user value through', () => {
    assert.equal(SERVER_SETTING_KEYS.includes('backend'), true);
    assert.equal(toServerSettings(() => undefined, ctx).backend, 'onnx-int8');
    assert.equal(toServerSettings((k) => (k === 'backend' ? null : undefined), ctx).backend, 'onnx-int8');
    assert.equal(toServerSettings((k) => (k === 'backend' ? 'torch' : undefined), ctx).backend, 'torch');
    assert.equal(toServerSettings((k) => (k === 'backend' ? 'onnx-int8' : undefined), ctx).backend, 'onnx-int8');
    // An unknown value goes out as it is; the server reports it and falls back to its default.
    assert.equal(toServerSettings((k) => (k === 'backend' ? 'tensorrt' : undefined), ctx).backend, 'tensorrt');
  });

  test('expands paths in storeDir and in a model given as a path', () => {
    const values: Record<string, unknown> = { storeDir: '~/.cache/cs', model: '${workspaceFolder}/models/mini' };
    const out = toServerSettings((k) => values[k], ctx);
    assert.equal(out.storeDir, path.join('/home/ada', '.cache/cs'));
    assert.equal(out.model, '/ws/project/models/mini');
    const rel = toServerSettings((k) => ({ storeDir: './.index', model: 'all-MiniLM-L6-v2' })[k as 'storeDir'], ctx);
    assert.equal(rel.storeDir, path.resolve('/ws/project', './.index'));
    assert.equal(rel.model, 'all-MiniLM-L6-v2');
  });

  test('wrong types pass through so the server can report them', () => {
    const out = toServerSettings((k) => (k === 'batchSize' ? 'many' : undefined), ctx);
    assert.equal(out.batchSize as unknown, 'many');
  });

  test('the defaults are not shared between calls', () => {
    const a = toServerSettings(() => undefined);
    a.exclude.push('x');
    assert.deepEqual(toServerSettings(() => undefined).exclude, []);
  });
});

describe('expandPath', () => {
  test('handles ~, ${userHome}, ${workspaceFolder}, ${env:X}', () => {
    assert.equal(expandPath('~', ctx), '/home/ada');
    assert.equal(expandPath('${userHome}/x', ctx), '/home/ada/x');
    assert.equal(expandPath('${env:CACHE}/cs', ctx), '/var/cache/cs');
    assert.equal(expandPath('${env:MISSING}cs', ctx), 'cs');
    assert.equal(expandPath('  ', ctx), '');
  });
  test('resolves relative paths against the workspace folder only when asked', () => {
    assert.equal(expandPath('.venv/bin/python', ctx, true), '/ws/project/.venv/bin/python');
    assert.equal(expandPath('.venv/bin/python', ctx, false), '.venv/bin/python');
    assert.equal(expandPath('python3', ctx, true), 'python3');
  });
});

describe('classifyConfigChange', () => {
  const changed = (...sections: string[]) => (s: string) =>
    sections.some((c) => c === s || c.startsWith(`${s}.`));
  test('interpreter and log level restart the server', () => {
    assert.equal(classifyConfigChange(changed('codesearch.server.pythonPath')), 'restart');
    assert.equal(classifyConfigChange(changed('codesearch.logLevel')), 'restart');
  });
  test('the settings the server reads are forwarded', () => {
    assert.equal(classifyConfigChange(changed('codesearch.exclude')), 'notify');
    assert.equal(classifyConfigChange(changed('codesearch.model')), 'notify');
    assert.equal(classifyConfigChange(changed('codesearch.backend')), 'notify');
  });
  test('other sections are ignored', () => {
    assert.equal(classifyConfigChange(changed('editor.fontSize')), 'none');
  });
  test("the extension's own agent-tools switch neither restarts nor reconfigures the server", () => {
    assert.equal(classifyConfigChange(changed('codesearch.agentTools.enable')), 'none');
    assert.equal(classifyConfigChange(changed('codesearch.agentTools.enable', 'codesearch.model')), 'notify');
  });
});

describe('log level', () => {
  test('normalises and defaults', () => {
    assert.equal(normalizeLogLevel('DEBUG'), 'debug');
    assert.equal(normalizeLogLevel('warn'), 'warning');
    assert.equal(normalizeLogLevel('verbose'), 'info');
    assert.equal(normalizeLogLevel(undefined), 'info');
  });
  test('maps to the server command line', () => {
    assert.deepEqual(serverArgs('debug'), ['-m', 'codesearch', 'serve', '--log-level', 'debug']);
  });
});
