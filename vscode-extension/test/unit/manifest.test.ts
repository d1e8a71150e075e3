import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { ClientCommand } from '../../src/commands/ids';
import { TOOL_DEFAULT_LIMIT, TOOL_INPUT_KEYS, TOOL_MAX_LIMIT, TOOL_NAME, TOOL_REFERENCE_NAME } from '../../src/logic/agentTool';
import { BACKENDS, CLIENT_SETTING_KEYS, ENTITY_KINDS, LANGUAGES, SOURCE_GLOB } from '../../src/logic/contract';
import { MCP_PROVIDER_ID, MCP_SERVER_LABEL } from '../../src/logic/mcp';
import { menuEntries } from '../../src/logic/menu';
import { ServerCommand } from '../../src/logic/protocol';
import { LOG_LEVELS, SERVER_SETTING_DEFAULTS, SERVER_SETTING_KEYS } from '../../src/logic/settings';

interface Manifest {
  main: string;
  license?: string;
  repository?: unknown;
  engines: { vscode: string };
  activationEvents: string[];
  capabilities: { untrustedWorkspaces: { supported: boolean | string; restrictedConfigurations?: string[] } };
  contributes: {
    commands: { command: string; title: string; category?: string }[];
    menus: { commandPalette: { command: string; when?: string }[] };
    keybindings: { command: string; key: string; mac?: string; when?: string }[];
    languageModelTools: {
      name: string;
      toolReferenceName?: string;
      displayName?: string;
      modelDescription: string;
      canBeReferencedInPrompt?: boolean;
      when?: string;
      inputSchema: JsonSchema;
    }[];
    mcpServerDefinitionProviders: { id: string; label: string }[];
    configuration: {
      properties: Record<
        string,
        { type?: string; default?: unknown; scope?: string; description?: string; markdownDescription?: string; enum?: string[]; enumDescriptions?: string[] }
      >;
    };
  };
}

interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  default?: unknown;
  description?: string;
  additionalProperties?: boolean;
  anyOf?: unknown;
  oneOf?: unknown;
}

const manifest = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as Manifest;
const props = manifest.contributes.configuration.properties;

describe('package.json manifest', () => {
  test('every server setting is contributed with the PROTOCOL.md default and a description', () => {
    for (const key of SERVER_SETTING_KEYS) {
      const prop = props[`codesearch.${key}`];
      assert.ok(prop, `codesearch.${key} missing`);
      assert.deepEqual(prop.default, SERVER_SETTING_DEFAULTS[key], `default of codesearch.${key}`);
      assert.ok(prop.description ?? prop.markdownDescription, `description of codesearch.${key}`);
    }
  });

  test('backend: onnx-int8 (default) or torch, each value described, re-embedding mentioned', () => {
    const prop = props['codesearch.backend'];
    assert.ok(prop, 'codesearch.backend missing');
    assert.equal(prop.type, 'string');
    assert.deepEqual(prop.enum, [...BACKENDS]);
    assert.equal(prop.default, 'onnx-int8');
    assert.equal(SERVER_SETTING_DEFAULTS.backend, 'onnx-int8');
    assert.ok(prop.enum.includes(SERVER_SETTING_DEFAULTS.backend));
    assert.equal(prop.scope, 'window');
    assert.equal(prop.enumDescriptions?.length, prop.enum.length);
    assert.ok(prop.enumDescriptions.every((d) => d.trim() !== ''));
    assert.match(prop.markdownDescription ?? '', /re-embeds/);
  });

  test('client settings: pythonPath and logLevel', () => {
    assert.equal(props['codesearch.server.pythonPath']?.default, '');
    assert.deepEqual(props['codesearch.logLevel']?.enum, [...LOG_LEVELS]);
    for (const key of CLIENT_SETTING_KEYS) {
      assert.ok(props[`codesearch.${key}`], key);
    }
    assert.equal(props['codesearch.logLevel']?.default, 'info');
  });

  test('every client command is contributed under the Codesearch category', () => {
    const contributed = new Map(manifest.contributes.commands.map((c) => [c.command, c]));
    for (const id of Object.values(ClientCommand)) {
      assert.equal(contributed.get(id)?.category, 'Codesearch', id);
    }
    const titles = manifest.contributes.commands.map((c) => `${c.category ?? ''}: ${c.title}`);
    for (const title of [
      'Codesearch: Search',
      'Codesearch: Find Similar',
      'Codesearch: Reindex Workspace',
      'Codesearch: Force Full Reindex',
      'Codesearch: Clear Index',
      'Codesearch: Pause Indexing',
      'Codesearch: Resume Indexing',
      'Codesearch: Show Logs',
      'Codesearch: Show Actions Menu',
    ]) {
      assert.ok(titles.includes(title), title);
    }
  });

  test("client command ids never collide with the server's (the language client registers those)", () => {
    const server = new Set<string>(Object.values(ServerCommand));
    for (const c of manifest.contributes.commands) {
      assert.ok(!server.has(c.command), c.command);
    }
  });

  test('starts in a window with indexed code, or on one of its commands; limits untrusted workspaces', () => {
    // not in every window: no onStartupFinished, no '*'
    assert.deepEqual(manifest.activationEvents, [`workspaceContains:${SOURCE_GLOB}`]);
    // VS Code 1.74+ activates an extension on its contributed commands by itself
    const [major, minor] = manifest.engines.vscode.replace(/^[^\d]*/, '').split('.').map(Number);
    assert.ok(major > 1 || minor >= 74, manifest.engines.vscode);
    assert.equal(manifest.capabilities.untrustedWorkspaces.supported, 'limited');
    assert.deepEqual(manifest.capabilities.untrustedWorkspaces.restrictedConfigurations, ['codesearch.server.pythonPath']);
    assert.equal(manifest.main, './dist/extension.js');
    assert.ok(manifest.license && manifest.repository);
  });

  test('Pause and Resume: each offered in the palette only when it applies', () => {
    const palette = new Map(manifest.contributes.menus.commandPalette.map((m) => [m.command, m.when]));
    assert.equal(palette.get(ClientCommand.pauseIndexing), '!codesearch.indexingPaused');
    assert.equal(palette.get(ClientCommand.resumeIndexing), 'codesearch.indexingPaused');
  });

  test('Search has a default keybinding that VS Code does not use already', () => {
    const binding = manifest.contributes.keybindings.find((k) => k.command === ClientCommand.search);
    assert.ok(binding);
    assert.equal(binding.key, 'ctrl+shift+alt+f');
    assert.equal(binding.mac, 'cmd+shift+alt+f');
    // ctrl+alt+f is list.find and the debug console's find in VS Code; cmd+alt+f is Replace on macOS
    for (const taken of ['ctrl+alt+f', 'cmd+alt+f', 'ctrl+shift+f', 'cmd+shift+f', 'ctrl+t', 'cmd+t']) {
      assert.notEqual(binding.key, taken);
      assert.notEqual(binding.mac, taken);
    }
  });

  test('every command the menu runs is contributed', () => {
    const contributed = new Set(manifest.contributes.commands.map((c) => c.command));
    for (const paused of [false, true]) {
      for (const phase of [{ kind: 'running' }, { kind: 'failed', reason: 'x' }] as const) {
        for (const entry of menuEntries({ phase, paused, canCancel: true, canInstall: true })) {
          if (entry.command) {
            assert.ok(contributed.has(entry.command), entry.command);
          }
        }
      }
    }
  });

  test('the language model tool: #codesearch, an input schema the code checks, no union types', () => {
    const tools = manifest.contributes.languageModelTools;
    assert.equal(tools.length, 1);
    const [tool] = tools;
    assert.equal(tool.name, TOOL_NAME);
    assert.equal(tool.toolReferenceName, TOOL_REFERENCE_NAME);
    assert.equal(tool.canBeReferencedInPrompt, true);
    assert.equal(tool.when, 'config.codesearch.agentTools.enable');
    assert.ok(tool.modelDescription.length > 200, 'a description written for a model');
    const schema = tool.inputSchema;
    assert.equal(schema.type, 'object');
    assert.deepEqual(schema.required, ['query']);
    assert.equal(schema.additionalProperties, false);
    assert.deepEqual(Object.keys(schema.properties ?? {}), [...TOOL_INPUT_KEYS]);
    for (const [key, prop] of Object.entries(schema.properties ?? {})) {
      assert.equal(typeof prop.type, 'string', `${key}: one type, no union`);
      assert.ok(!prop.anyOf && !prop.oneOf, key);
      assert.ok(prop.description, key);
    }
    const props = schema.properties ?? {};
    assert.equal(props.limit.minimum, 1);
    assert.equal(props.limit.maximum, TOOL_MAX_LIMIT);
    assert.equal(props.limit.default, TOOL_DEFAULT_LIMIT);
    assert.deepEqual(props.kind.enum, [...ENTITY_KINDS]);
    assert.deepEqual(props.language.enum, [...LANGUAGES]);
  });

  test('the MCP server definition provider, and the setting that turns both off', () => {
    assert.deepEqual(manifest.contributes.mcpServerDefinitionProviders, [{ id: MCP_PROVIDER_ID, label: MCP_SERVER_LABEL }]);
    const setting = props['codesearch.agentTools.enable'];
    assert.equal(setting?.type, 'boolean');
    assert.equal(setting?.default, true);
  });

  test('engines.vscode is a release with the language model tool and MCP provider APIs (1.101)', () => {
    const [major, minor] = manifest.engines.vscode.replace(/^[^\d]*/, '').split('.').map(Number);
    assert.ok(major > 1 || minor >= 101, manifest.engines.vscode);
  });
});
