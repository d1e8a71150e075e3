/**
 * Lifecycle of the language server: check the interpreter, start the client, restart it when
 * the interpreter or a server-level setting changes (or the server crashes), forward the other
 * settings, and keep the status bar in step with the client and the server's status.
 * Starts, stops and restarts run one at a time, in order.
 */
import * as vscode from 'vscode';
import {
  CloseAction,
  DidChangeConfigurationNotification,
  ExecuteCommandRequest,
  type LanguageClient,
} from 'vscode-languageclient/node';
import { CONFIG_SECTION } from '../logic/contract';
import { CrashWindow } from '../logic/crashes';
import type { Interpreter } from '../logic/interpreter';
import type { MenuAction } from '../logic/menu';
import { parseStatus, ServerCommand } from '../logic/protocol';
import { notRunningReason } from '../logic/status';
import type { StatusProgressFeature } from '../progress';
import { onPythonInterpreterChanged, shippedWheel } from '../python';
import type { StatusBar } from '../statusBar';
import { onSettingsChanged, serverLogLevel, settingsFor } from './configuration';
import { type ErrorAction, showError } from './errors';
import {
  checkInterpreter,
  installServer,
  type InterpreterHost,
  resolveServerInterpreter,
  selectInterpreter,
} from './interpreter';
import { createLanguageClient } from './languageClient';
import { showMenu } from './menu';
import { ClientView } from './view';

export class ServerNotRunningError extends Error {}

export class ServerManager implements vscode.Disposable, InterpreterHost {
  private client: LanguageClient | undefined;
  private progress: StatusProgressFeature | undefined;
  private interpreter: Interpreter | undefined;
  private verified: Interpreter | undefined;
  private readonly verifiedChanged = new vscode.EventEmitter<Interpreter | undefined>();
  /** Fires when the interpreter that passed the server check changes (or none passes any more). */
  readonly onDidChangeVerifiedInterpreter = this.verifiedChanged.event;
  private queue: Promise<void> = Promise.resolve();
  private readonly crashes = new CrashWindow();
  private readonly view: ClientView;
  private readonly disposables: vscode.Disposable[] = [];
  readonly extensionPath: string;

  constructor(
    context: vscode.ExtensionContext,
    readonly output: vscode.OutputChannel,
    statusBar: StatusBar,
  ) {
    this.extensionPath = context.extensionPath;
    this.view = new ClientView(statusBar, () => this.progress?.current());
  }

  /** Hooks the events that start, restart or reconfigure the server. */
  async init(): Promise<void> {
    this.disposables.push(
      onSettingsChanged(
        () => {
          this.log('a server setting changed: restarting the server');
          void this.restart();
        },
        () => void this.notifyConfiguration(),
      ),
      vscode.workspace.onDidGrantWorkspaceTrust(() => {
        this.log('the workspace is now trusted: starting the server');
        void this.start();
      }),
      vscode.workspace.onDidChangeWorkspaceFolders(() => {
        if (!this.client && (vscode.workspace.workspaceFolders?.length ?? 0) > 0) {
          void this.start();
        }
      }),
    );
    const sub = await onPythonInterpreterChanged(
      () => {
        if (this.interpreter?.source !== 'setting') {
          this.log("the Python extension's interpreter changed: restarting the server");
          void this.restart();
        }
      },
      (line) => this.output.appendLine(line),
    );
    if (sub) {
      this.disposables.push(sub);
    }
  }

  start(): Promise<void> {
    return this.enqueue(() => this.doStart());
  }

  stop(): Promise<void> {
    return this.enqueue(() => this.doStop());
  }

  restart(): Promise<void> {
    return this.enqueue(async () => {
      await this.doStop();
      this.crashes.reset();
      await this.doStart();
    });
  }

  dispose(): void {
    for (const d of this.disposables) {
      d.dispose();
    }
    this.verifiedChanged.dispose();
  }

  current(): Interpreter | undefined {
    return this.interpreter;
  }

  /** The interpreter of the last start if it can run the server (other clients may use it too). */
  verifiedInterpreter(): Interpreter | undefined {
    return this.verified;
  }

  /** Waits for a start in progress; throws ServerNotRunningError when the server is not up. */
  async ensureRunning(): Promise<void> {
    await this.queue;
    if (!this.client?.isRunning()) {
      throw new ServerNotRunningError(notRunningReason(this.view.phase));
    }
  }

  /** Sends `workspace/executeCommand`; waits for a start in progress first. */
  async execute(command: string, arg?: object, token?: vscode.CancellationToken): Promise<unknown> {
    await this.queue;
    const client = this.client;
    if (!client?.isRunning()) {
      throw new ServerNotRunningError(notRunningReason(this.view.phase));
    }
    const params = { command, arguments: arg === undefined ? [] : [arg] };
    return token ? client.sendRequest(ExecuteCommandRequest.type, params, token) : client.sendRequest(ExecuteCommandRequest.type, params);
  }

  /** Shows an error that always offers "Show Logs" (plus `actions`). */
  showError(message: string, actions: readonly string[] = []): void {
    showError(this.output, message, actions, (action) => {
      this.runAction(action);
    });
  }

  installServer(): Promise<void> {
    return installServer(this);
  }

  selectInterpreter(): Promise<void> {
    return selectInterpreter(this);
  }

  /** The status item's menu. */
  showMenu(): Promise<void> {
    const state = {
      phase: this.view.phase,
      paused: this.view.paused,
      canCancel: this.progress?.canCancel() === true,
      canInstall: shippedWheel(this.extensionPath) !== undefined,
    };
    return showMenu(state, (action) => this.runMenuAction(action));
  }

  private async runMenuAction(action: MenuAction): Promise<void> {
    if (action === 'cancelIndexing') {
      await this.progress?.cancelAll();
    } else {
      await vscode.commands.executeCommand('workbench.trust.manage');
    }
  }

  private runAction(action: ErrorAction): void {
    switch (action) {
      case 'Show Logs':
        this.output.show(true);
        break;
      case 'Install Server':
        void this.installServer();
        break;
      case 'Select Interpreter':
        void this.selectInterpreter();
        break;
      case 'Restart Server':
        void this.restart();
        break;
      case 'Trust Workspace':
        void vscode.commands.executeCommand('workbench.trust.manage');
        break;
    }
  }

  private setVerified(interpreter: Interpreter | undefined): void {
    const changed = interpreter?.path !== this.verified?.path;
    this.verified = interpreter;
    if (changed) {
      this.verifiedChanged.fire(interpreter);
    }
  }

  private enqueue(task: () => Promise<void>): Promise<void> {
    const run = this.queue.then(task, task);
    this.queue = run.catch((err: unknown) => {
      this.log(`unexpected error: ${String(err)}`);
    });
    return this.queue;
  }

  private log(message: string): void {
    this.output.appendLine(`[client] ${message}`);
  }

  private async doStart(): Promise<void> {
    if (this.client) {
      return;
    }
    if ((vscode.workspace.workspaceFolders?.length ?? 0) === 0) {
      this.view.setPhase({ kind: 'noFolder' });
      return;
    }
    if (!vscode.workspace.isTrusted) {
      // Never run an interpreter in an untrusted workspace: it may come from workspace settings
      // or the workspace's own environment.
      this.log('Restricted Mode: the server starts once the workspace is trusted');
      this.view.setPhase({ kind: 'restricted' });
      return;
    }
    const interpreter = await resolveServerInterpreter(this.output);
    this.interpreter = interpreter;
    this.view.setPhase({ kind: 'checking', interpreter: interpreter.path });
    const problem = await checkInterpreter(interpreter, this.extensionPath, (line) => {
      this.output.appendLine(line);
    });
    this.setVerified(problem ? undefined : interpreter);
    if (problem) {
      this.view.setPhase({ kind: 'failed', reason: problem.reason });
      this.showError(problem.message, problem.actions);
      return;
    }
    this.view.setPhase({ kind: 'starting', interpreter: interpreter.path });
    await this.startClient(interpreter.path);
  }

  private async startClient(python: string): Promise<void> {
    const isCurrent = (): boolean => this.client === client;
    const { client, progress } = createLanguageClient({
      python,
      logLevel: serverLogLevel(),
      extensionPath: this.extensionPath,
      output: this.output,
      settingsFor,
      onStatus: (status) => {
        if (isCurrent()) {
          this.view.setStatus(status);
        }
      },
      onProgress: () => {
        if (isCurrent()) {
          this.view.render();
        }
      },
      onStopped: () => {
        if (isCurrent() && this.view.phase.kind === 'running') {
          this.view.setStatus(undefined);
        }
      },
      onClosed: () => this.onServerClosed(),
    });
    this.client = client;
    this.progress = progress;
    try {
      await client.start();
    } catch (err) {
      this.client = undefined;
      this.progress = undefined;
      try {
        await client.dispose(2000);
      } catch {
        // already stopped
      }
      const reason = err instanceof Error ? err.message : String(err);
      this.view.setPhase({ kind: 'failed', reason: `the server did not start (${reason})` });
      this.showError(`Codesearch: the language server failed to start: ${reason}`, [
        'Restart Server',
        'Select Interpreter',
      ]);
      return;
    }
    this.view.setPhase({ kind: 'running' });
    // The first status may have been sent before our handler saw it; ask once.
    client.sendRequest(ExecuteCommandRequest.type, { command: ServerCommand.status, arguments: [] }).then(
      (raw) => {
        const parsed = parseStatus(raw);
        if (parsed && isCurrent() && !this.view.status) {
          this.view.setStatus(parsed);
        }
      },
      (err: unknown) => {
        this.log(`${ServerCommand.status} failed: ${String(err)}`);
      },
    );
  }

  private async doStop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.progress = undefined;
    if (client) {
      try {
        await client.stop(5000);
      } catch (err) {
        this.log(`stopping the server: ${String(err)}`);
      }
      try {
        await client.dispose(1000);
      } catch {
        // already stopped
      }
    }
    this.view.setPhase({ kind: 'stopped' });
  }

  private async notifyConfiguration(): Promise<void> {
    const client = this.client;
    if (!client?.isRunning()) {
      return;
    }
    try {
      await client.sendNotification(DidChangeConfigurationNotification.type, {
        settings: { [CONFIG_SECTION]: settingsFor() },
      });
    } catch (err) {
      this.log(`sending the new settings failed: ${String(err)}`);
    }
  }

  private onServerClosed(): { action: CloseAction; handled: boolean } {
    if (this.crashes.record(Date.now())) {
      this.log('the server exited unexpectedly: restarting it');
      this.view.setStatus(undefined);
      return { action: CloseAction.Restart, handled: true };
    }
    const reason = `the server exited ${this.crashes.count} times in 3 minutes`;
    // The stopped client stays referenced so that a restart disposes it (and its diagnostics).
    this.view.setPhase({ kind: 'failed', reason });
    this.showError(`Codesearch: ${reason} and was not restarted.`, ['Restart Server']);
    return { action: CloseAction.DoNotRestart, handled: true };
  }
}
