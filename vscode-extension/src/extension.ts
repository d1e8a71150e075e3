/**
 * Entry point: creates the log channel, the status bar item and the server manager, registers
 * the commands and the agent features (language model tool, MCP server definition), and starts
 * the server at once so the workspace indexes in the background.
 */
import * as vscode from 'vscode';
import { registerCommands } from './commands';
import { registerAgentFeatures } from './client/agents';
import { ServerManager } from './client/lifecycle';
import { StatusBar } from './statusBar';

let manager: ServerManager | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel('Codesearch');
  const statusBar = new StatusBar();
  manager = new ServerManager(context, output, statusBar);
  context.subscriptions.push(output, statusBar, manager);
  registerCommands(context, manager, output);
  // During activation: VS Code asks extensions for MCP servers right after they activate.
  context.subscriptions.push(registerAgentFeatures(manager));
  const m = manager;
  // Not awaited: activation must not wait on Python.
  void m
    .init()
    .then(() => m.start())
    .catch((err: unknown) => output.appendLine(`[client] start failed: ${String(err)}`));
}

export async function deactivate(): Promise<void> {
  await manager?.stop();
  manager = undefined;
}
