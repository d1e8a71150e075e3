import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SERVER_SETTING_DEFAULTS, SERVER_SETTING_KEYS, type ServerSettings } from '../../src/logic/contract';
import { detectAgentApis, MCP_SERVER_LABEL, mcpLaunch, SETTING_FLAGS, settingFlags } from '../../src/logic/mcp';

const defaults: ServerSettings = { ...SERVER_SETTING_DEFAULTS, exclude: [] };
const base = { enabled: true, trusted: true, python: '/ws/.venv/bin/python', folders: ['/ws/app'], settings: defaults };

describe('MCP server definition', () => {
  test('codesearch mcp on the server interpreter, one --path per folder, started in the first', () => {
    assert.deepEqual(mcpLaunch({ ...base, folders: ['/ws/app', '/ws/lib', '/ws/app'] }), {
      label: MCP_SERVER_LABEL,
      command: '/ws/.venv/bin/python',
      args: ['-m', 'codesearch', 'mcp', '--path', '/ws/app', '--path', '/ws/lib'],
      cwd: '/ws/app',
    });
  });
  test("the language server's store, model, backend and file rules, when they are not the defaults", () => {
    const settings: ServerSettings = {
      ...defaults,
      storeDir: '/data/stores',
      model: '/models/minilm',
      backend: 'torch',
      exclude: ['generated/**', ' ', '*.min.js'],
      maxFileSize: 2048,
      threads: 2,
      batchSize: 32,
    };
    assert.deepEqual(mcpLaunch({ ...base, settings })?.args, [
      '-m',
      'codesearch',
      'mcp',
      '--path',
      '/ws/app',
      '--model',
      '/models/minilm',
      '--exclude',
      'generated/**',
      '--exclude',
      '*.min.js',
      '--max-file-size',
      '2048',
      '--cache-dir',
      '/data/stores',
      '--threads',
      '2',
      '--backend',
      'torch',
    ]);
  });
  test('values of the wrong type stay off the command line (the language server reports them)', () => {
    const settings = { ...defaults, threads: 'many', model: 3 } as unknown as ServerSettings;
    assert.deepEqual(settingFlags(settings), []);
  });
  test('every setting the server reads has a flag, or is enable (which offers no server when off)', () => {
    assert.deepEqual([...SERVER_SETTING_KEYS].sort(), ['enable', ...Object.keys(SETTING_FLAGS)].sort());
  });
  test('nothing offered when the setting is off, Codesearch is disabled, the workspace untrusted, no folder or no checked interpreter', () => {
    assert.equal(mcpLaunch({ ...base, enabled: false }), undefined);
    assert.equal(mcpLaunch({ ...base, settings: { ...defaults, enable: false } }), undefined);
    assert.equal(mcpLaunch({ ...base, trusted: false }), undefined);
    assert.equal(mcpLaunch({ ...base, folders: [] }), undefined);
    assert.equal(mcpLaunch({ ...base, python: '' }), undefined);
  });
});

describe('feature detection', () => {
  const Definition = function McpStdioServerDefinition(): void {};
  const fn = (): void => undefined;
  test('both APIs present (VS Code 1.101 and newer)', () => {
    assert.deepEqual(
      detectAgentApis({ registerTool: fn, registerMcpServerDefinitionProvider: fn }, Definition),
      { tool: true, mcp: true },
    );
  });
  test('older editors: no lm namespace, or only the tool API, or no definition class', () => {
    assert.deepEqual(detectAgentApis(undefined, undefined), { tool: false, mcp: false });
    assert.deepEqual(detectAgentApis({ registerTool: fn }, undefined), { tool: true, mcp: false });
    assert.deepEqual(detectAgentApis({ registerTool: fn, registerMcpServerDefinitionProvider: fn }, undefined), {
      tool: true,
      mcp: false,
    });
    assert.deepEqual(detectAgentApis({ registerTool: 'yes' }, Definition), { tool: false, mcp: false });
  });
});
