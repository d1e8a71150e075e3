import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { detectAgentApis, MCP_SERVER_LABEL, mcpLaunch, MODEL_ENV, STORE_DIR_ENV } from '../../src/logic/mcp';

const base = { enabled: true, trusted: true, python: '/ws/.venv/bin/python', folders: ['/ws/app'] };

describe('MCP server definition', () => {
  test('codesearch mcp on the server interpreter, one --path per folder, started in the first', () => {
    assert.deepEqual(mcpLaunch({ ...base, folders: ['/ws/app', '/ws/lib', '/ws/app'] }), {
      label: MCP_SERVER_LABEL,
      command: '/ws/.venv/bin/python',
      args: ['-m', 'codesearch', 'mcp', '--path', '/ws/app', '--path', '/ws/lib'],
      env: {},
      cwd: '/ws/app',
    });
  });
  test('the same index store and model as the language server', () => {
    const launch = mcpLaunch({ ...base, storeDir: '/data/stores', model: '/models/minilm' });
    assert.deepEqual(launch?.env, { [STORE_DIR_ENV]: '/data/stores', [MODEL_ENV]: '/models/minilm' });
    assert.equal(STORE_DIR_ENV, 'CODESEARCH_CACHE_DIR');
    assert.equal(MODEL_ENV, 'CODESEARCH_MODEL');
    assert.deepEqual(mcpLaunch({ ...base, storeDir: ' ', model: '' })?.env, {});
  });
  test('nothing offered when the setting is off, the workspace untrusted, no folder or no checked interpreter', () => {
    assert.equal(mcpLaunch({ ...base, enabled: false }), undefined);
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
