/** The `codesearch.*` settings as the server reads them, and what a change to one means. */
import * as vscode from 'vscode';
import { CONFIG_SECTION } from '../logic/contract';
import { classifyConfigChange, type ServerSettings, toServerSettings } from '../logic/settings';
import { firstFolder } from './interpreter';

/** The settings the server reads, for a folder (`scopeUri`) or the window. */
export function settingsFor(scopeUri?: string): ServerSettings {
  const scope = scopeUri ? vscode.Uri.parse(scopeUri) : undefined;
  const folder = (scope ? vscode.workspace.getWorkspaceFolder(scope) : undefined) ?? firstFolder();
  const config = vscode.workspace.getConfiguration(CONFIG_SECTION, scope ?? folder?.uri);
  return toServerSettings((key) => config.get(key), { workspaceFolder: folder?.uri.fsPath, env: process.env });
}

/** The server's `--log-level`, from `codesearch.logLevel`. */
export function serverLogLevel(): string {
  return vscode.workspace.getConfiguration(CONFIG_SECTION).get<string>('logLevel', 'info');
}

/**
 * Calls `restart` when a setting the client reads changed (the interpreter, the log level),
 * `notify` when one the server reads did.
 */
export function onSettingsChanged(restart: () => void, notify: () => void): vscode.Disposable {
  return vscode.workspace.onDidChangeConfiguration((e) => {
    const action = classifyConfigChange((section) => e.affectsConfiguration(section));
    if (action === 'restart') {
      restart();
    } else if (action === 'notify') {
      notify();
    }
  });
}

/** `codesearch.agentTools.enable`: offer the language model tool and the MCP server. */
export const AGENT_TOOLS_SETTING = 'agentTools.enable';

export function agentToolsEnabled(): boolean {
  return vscode.workspace.getConfiguration(CONFIG_SECTION).get<unknown>(AGENT_TOOLS_SETTING, true) !== false;
}
