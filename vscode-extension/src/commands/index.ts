/** Registers the client's commands (`codesearch.client.*`). */
import * as vscode from 'vscode';
import { reindexSummary } from '../logic/hits';
import { ServerCommand } from '../logic/protocol';
import { findSimilar, searchQuickPick } from '../search';
import { ServerNotRunningError, type ServerManager } from '../client/lifecycle';
import { ClientCommand } from './ids';

export function registerCommands(
  context: vscode.ExtensionContext,
  manager: ServerManager,
  output: vscode.OutputChannel,
): void {
  const reindex = async (force: boolean): Promise<void> => {
    try {
      const result = await vscode.window.withProgress(
        {
          location: vscode.ProgressLocation.Window,
          title: force ? 'Codesearch: full reindex' : 'Codesearch: reindex',
        },
        () => manager.execute(ServerCommand.reindex, force ? { force: true } : {}),
      );
      void vscode.window.showInformationMessage(reindexSummary(result));
    } catch (err) {
      fail(manager, force ? 'full reindex' : 'reindex', err);
    }
  };

  const register = (id: string, fn: (...args: unknown[]) => unknown): void => {
    context.subscriptions.push(vscode.commands.registerCommand(id, fn));
  };

  register(ClientCommand.search, async () => {
    try {
      await manager.ensureRunning();
    } catch (err) {
      fail(manager, 'search', err);
      return;
    }
    const editor = vscode.window.activeTextEditor;
    const selected = editor && !editor.selection.isEmpty ? editor.document.getText(editor.selection) : '';
    // A one-line selection seeds the query; a block of code does not make a good one.
    await searchQuickPick(manager, selected.includes('\n') ? '' : selected.trim().slice(0, 200));
  });
  register(ClientCommand.findSimilar, () => findSimilar(manager));
  register(ClientCommand.reindex, () => reindex(false));
  register(ClientCommand.forceReindex, () => reindex(true));
  register(ClientCommand.clearIndex, async () => {
    const answer = await vscode.window.showWarningMessage(
      'Clear the Codesearch index? Every file is indexed again from scratch.',
      { modal: true },
      'Clear Index',
    );
    if (answer !== 'Clear Index') {
      return;
    }
    try {
      await manager.execute(ServerCommand.clearIndex);
      void vscode.window.showInformationMessage('Codesearch: index cleared; indexing again.');
    } catch (err) {
      fail(manager, 'clear index', err);
    }
  });
  const setPaused = async (paused: boolean): Promise<void> => {
    try {
      await manager.execute(paused ? ServerCommand.pause : ServerCommand.resume);
      void vscode.window.showInformationMessage(
        paused
          ? 'Codesearch: indexing paused. Saved files wait until you resume; search still works.'
          : 'Codesearch: indexing resumed; what changed while paused is indexed now.',
      );
    } catch (err) {
      fail(manager, paused ? 'pause indexing' : 'resume indexing', err);
    }
  };
  register(ClientCommand.pauseIndexing, () => setPaused(true));
  register(ClientCommand.resumeIndexing, () => setPaused(false));
  register(ClientCommand.showLogs, () => {
    output.show(true);
  });
  register(ClientCommand.restartServer, () => manager.restart());
  register(ClientCommand.selectInterpreter, () => manager.selectInterpreter());
  register(ClientCommand.installServer, () => manager.installServer());
  register(ClientCommand.showMenu, () => manager.showMenu());
}

function fail(manager: ServerManager, what: string, err: unknown): void {
  if (err instanceof ServerNotRunningError) {
    manager.showError(err.message, ['Restart Server']);
    return;
  }
  const message = err instanceof Error ? err.message : String(err);
  manager.showError(`Codesearch: ${what} failed: ${message}`);
}
