/**
 * What the status item's menu offers in each state: the actions that make sense now, and the
 * fix first when the server is not running. Pure: the QuickPick is drawn in client/menu.ts.
 */
import { ClientCommand } from '../commands/ids';
import type { ClientPhase } from './status';

export const MENU_TITLE = 'Codesearch actions';

/** What the menu needs to know about the client and the server. */
export interface MenuState {
  phase: ClientPhase;
  /** The server said it is paused (`codesearch/status` `paused`). */
  paused: boolean;
  /** An indexing run is in progress and can be cancelled. */
  canCancel: boolean;
  /** The extension ships a server wheel to install. */
  canInstall: boolean;
}

/** Actions the menu runs itself rather than through a command. */
export type MenuAction = 'manageTrust' | 'cancelIndexing';

export interface MenuEntry {
  label: string;
  description?: string;
  /** A heading, not a choice. */
  separator?: true;
  command?: string;
  action?: MenuAction;
}

export function menuEntries(state: MenuState): MenuEntry[] {
  const entries: MenuEntry[] = [];
  const { phase } = state;
  if (phase.kind === 'failed') {
    entries.push({ label: `$(error) ${phase.reason}`, separator: true });
    if (state.canInstall) {
      entries.push({ label: '$(cloud-download) Install Server', command: ClientCommand.installServer });
    }
    entries.push({ label: '$(symbol-namespace) Select Interpreter', command: ClientCommand.selectInterpreter });
  }
  if (phase.kind === 'restricted') {
    entries.push({ label: '$(shield) Manage Workspace Trust', action: 'manageTrust' });
  }
  entries.push(
    { label: '$(search) Search', description: 'Find code by meaning', command: ClientCommand.search },
    { label: '$(refresh) Reindex', description: 'Index changed files', command: ClientCommand.reindex },
    {
      label: '$(sync) Force Full Reindex',
      description: 'Re-read and re-embed everything',
      command: ClientCommand.forceReindex,
    },
  );
  if (state.canCancel) {
    entries.push({ label: '$(debug-stop) Cancel Indexing', description: 'Stop this run', action: 'cancelIndexing' });
  }
  if (phase.kind === 'running') {
    entries.push(
      state.paused
        ? {
            label: '$(debug-continue) Resume Indexing',
            description: 'Index what changed while paused',
            command: ClientCommand.resumeIndexing,
          }
        : {
            label: '$(debug-pause) Pause Indexing',
            description: 'Stop embedding until resumed',
            command: ClientCommand.pauseIndexing,
          },
    );
  }
  entries.push(
    { label: '$(trash) Clear Index', command: ClientCommand.clearIndex },
    { label: '$(debug-restart) Restart Server', command: ClientCommand.restartServer },
    { label: '$(output) Show Logs', command: ClientCommand.showLogs },
  );
  return entries;
}
