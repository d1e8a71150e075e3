/**
 * What the user sees of the client: its phase, the server's last status and the open progress,
 * drawn on the status bar item, plus the `codesearch.indexingPaused` context key that picks
 * Pause or Resume in the command palette.
 */
import * as vscode from 'vscode';
import type { StatusPayload } from '../logic/protocol';
import { type ClientPhase, formatStatus, type ProgressInfo } from '../logic/status';
import type { StatusBar } from '../statusBar';

export const PAUSED_CONTEXT = 'codesearch.indexingPaused';

export class ClientView {
  private phaseNow: ClientPhase = { kind: 'stopped' };
  private statusNow: StatusPayload | undefined;
  private pausedContext: boolean | undefined;

  constructor(
    private readonly statusBar: StatusBar,
    private readonly progress: () => ProgressInfo | undefined,
  ) {}

  get phase(): ClientPhase {
    return this.phaseNow;
  }

  get status(): StatusPayload | undefined {
    return this.statusNow;
  }

  get paused(): boolean {
    return this.statusNow?.paused === true;
  }

  /** A new phase; the server's status is forgotten unless it runs. */
  setPhase(phase: ClientPhase): void {
    this.phaseNow = phase;
    if (phase.kind !== 'running') {
      this.statusNow = undefined;
    }
    this.render();
  }

  setStatus(status: StatusPayload | undefined): void {
    this.statusNow = status;
    this.render();
  }

  render(): void {
    this.statusBar.render(formatStatus(this.phaseNow, this.statusNow, this.progress()));
    if (this.paused !== this.pausedContext) {
      this.pausedContext = this.paused;
      void vscode.commands.executeCommand('setContext', PAUSED_CONTEXT, this.paused);
    }
  }
}
