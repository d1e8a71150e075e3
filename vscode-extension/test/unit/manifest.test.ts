import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { ClientCommand } from '../../src/commands/ids';
import { ServerCommand } from '../../src/logic/protocol';
import { LOG_LEVELS, SERVER_SETTING_DEFAULTS, SERVER_SETTING_KEYS } from '../../src/logic/settings';

interface Manifest {
  main: string;
  license?: string;
  repository?: unknown;
  activationEvents: string[];
  capabilities: { untrustedWorkspaces: { supported: boolean | string; restrictedConfigurations?: string[] } };
  contributes: {
    commands: { command: string; title: string; category?: string }[];
    configuration: {
      properties: Record<
        string,
        { type?: string; default?: unknown; scope?: string; description?: string; markdownDescription?: string; enum?: string[]; enumDescriptions?: string[] }
      >;
    };
  };
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
    assert.deepEqual(prop.enum, ['onnx-int8', 'torch']);
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
    assert.equal(props['codesearch.logLevel']?.default, 'info');
  });

  test('every client command is contributed under the Codesearch category', () => {
    const contributed = new Map(manifest.contributes.commands.map((c) => [c.command, c]));
    for (const id of Object.values(ClientCommand)) {
      assert.equal(contributed.get(id)?.category, 'Codesearch', id);
    }
    const titles = manifest.contributes.commands.map((c) => `${c.category ?? ''}: ${c.title}`);
    for (const title of ['Codesearch: Search', 'Codesearch: Find Similar', 'Codesearch: Reindex Workspace', 'Codesearch: Force Full Reindex', 'Codesearch: Clear Index', 'Codesearch: Show Logs']) {
      assert.ok(titles.includes(title), title);
    }
  });

  test("client command ids never collide with the server's (the language client registers those)", () => {
    const server = new Set<string>(Object.values(ServerCommand));
    for (const c of manifest.contributes.commands) {
      assert.ok(!server.has(c.command), c.command);
    }
  });

  test('starts eagerly, limits untrusted workspaces, and packages cleanly', () => {
    assert.ok(manifest.activationEvents.includes('onStartupFinished'));
    assert.equal(manifest.capabilities.untrustedWorkspaces.supported, 'limited');
    assert.deepEqual(manifest.capabilities.untrustedWorkspaces.restrictedConfigurations, ['codesearch.server.pythonPath']);
    assert.equal(manifest.main, './dist/extension.js');
    assert.ok(manifest.license && manifest.repository);
  });
});
