/**
 * Server-initiated work-done progress (`window/workDoneProgress/create` + `$/progress`) routed to
 * the Codesearch status bar item instead of a second, generic progress indicator.
 *
 * vscode-languageclient's built-in ProgressFeature claims each token with its own `$/progress`
 * handler, and a token takes one handler only; this feature is registered after the built-in
 * ones, so its `create` handler is the one in effect.
 */
import type * as vscode from 'vscode';
import {
  type BaseLanguageClient,
  type ClientCapabilities,
  type FeatureState,
  type ProgressToken,
  type StaticFeature,
  WorkDoneProgress,
  type WorkDoneProgressBegin,
  WorkDoneProgressCancelNotification,
  WorkDoneProgressCreateRequest,
  type WorkDoneProgressReport,
  type WorkDoneProgressEnd,
} from 'vscode-languageclient/node';
import type { ProgressInfo } from './logic/status';

interface OpenProgress extends ProgressInfo {
  cancellable: boolean;
  listener: vscode.Disposable;
}

export class StatusProgressFeature implements StaticFeature {
  private readonly open = new Map<ProgressToken, OpenProgress>();

  constructor(
    private readonly client: BaseLanguageClient,
    private readonly onChange: () => void,
  ) {
    // Also before start, in case the server asks right after `initialized`, before features
    // are initialised.
    client.onRequest(WorkDoneProgressCreateRequest.type, (params) => this.create(params.token));
  }

  fillClientCapabilities(capabilities: ClientCapabilities): void {
    capabilities.window = capabilities.window ?? {};
    capabilities.window.workDoneProgress = true;
  }

  initialize(): void {
    this.client.onRequest(WorkDoneProgressCreateRequest.type, (params) => this.create(params.token));
  }

  getState(): FeatureState {
    return { kind: 'static' };
  }

  clear(): void {
    for (const p of this.open.values()) {
      p.listener.dispose();
    }
    this.open.clear();
    this.onChange();
  }

  /** The most recent open progress, if any. */
  current(): ProgressInfo | undefined {
    let last: OpenProgress | undefined;
    for (const p of this.open.values()) {
      last = p;
    }
    return last ? { title: last.title, message: last.message, percentage: last.percentage } : undefined;
  }

  canCancel(): boolean {
    return [...this.open.values()].some((p) => p.cancellable);
  }

  /** Asks the server to stop every cancellable run (what was embedded is kept). */
  async cancelAll(): Promise<void> {
    for (const [token, p] of this.open) {
      if (p.cancellable) {
        await this.client.sendNotification(WorkDoneProgressCancelNotification.type, { token });
      }
    }
  }

  private create(token: ProgressToken): void {
    const existing = this.open.get(token);
    existing?.listener.dispose();
    const state: { entry?: OpenProgress } = {};
    const listener = this.client.onProgress(WorkDoneProgress.type, token, (value) => {
      if (state.entry) {
        this.handle(token, state.entry, value);
      }
    });
    state.entry = { cancellable: false, listener };
    this.open.set(token, state.entry);
  }

  private handle(
    token: ProgressToken,
    entry: OpenProgress,
    value: WorkDoneProgressBegin | WorkDoneProgressReport | WorkDoneProgressEnd,
  ): void {
    switch (value.kind) {
      case 'begin':
        entry.title = value.title;
        entry.message = value.message;
        entry.percentage = value.percentage;
        entry.cancellable = value.cancellable === true;
        break;
      case 'report':
        if (value.message !== undefined) {
          entry.message = value.message;
        }
        if (value.percentage !== undefined) {
          entry.percentage = value.percentage;
        }
        if (value.cancellable !== undefined) {
          entry.cancellable = value.cancellable;
        }
        break;
      case 'end':
        entry.listener.dispose();
        this.open.delete(token);
        break;
    }
    this.onChange();
  }
}
