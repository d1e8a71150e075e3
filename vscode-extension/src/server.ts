/**
 * Lifecycle of the language server: choose and check the interpreter, start the client, restart
 * it when the interpreter or a server-level setting changes, forward the other settings, and keep
 * the status bar in step with the client and the server's `codesearch/status`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  CloseAction,
  DidChangeConfigurationNotification,
  ErrorAction,
  ExecuteCommandRequest,
  LanguageClient,
  type LanguageClientOptions,
  RevealOutputChannelOn,
  type ServerOptions,
  State,
} from 'vscode-languageclient/node';
import { ClientCommand } from './commands/ids';
import {
  describeSource,
  type Interpreter,
  type ProbeAction,
  probeMessage,
  resolveInterpreter,
} from './logic/interpreter';
import { parseStatus, ServerCommand, STATUS_NOTIFICATION, type StatusPayload } from './logic/protocol';
import { classifyConfigChange, serverArgs, type ServerSettings, toServerSettings } from './logic/settings';
import { type ClientPhase, formatStatus } from './logic/status';
import { StatusProgressFeature } from './progress';
import {
  hasPythonExtension,
  onPythonInterpreterChanged,
  pipInstall,
  probeInterpreter,
  pythonEnv,
  pythonExtensionInterpreter,
  shippedWheel,
} from './python';
import type { StatusBar } from './statusBar';

export class ServerNotRunningError extends Error {}

const CRASH_WINDOW_MS = 3 * 60_000;
const MAX_CRASH_RESTARTS = 3;

export class ServerManager implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private progress: StatusProgressFeature | undefined;
  private phase: ClientPhase = { kind: 'stopped' };
  private status: StatusPayload | undefined;
  private interpreter: Interpreter | undefined;
  private queue: Promise<void> = Promise.resolve();
  private crashes: number[] = [];
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly output: vscode.OutputChannel,
    private readonly statusBar: StatusBar,
  ) {}

  /** Hooks the events that start, restart or reconfigure the server. */
  async init(): Promise<void> {
    this.disposables.push(
      vscode.workspace.onDidChangeConfiguration((e) => {
        const action = classifyConfigChange((section) => e.affectsConfiguration(section));
        if (action === 'restart') {
          this.log('a server setting changed: restarting the server');
          void this.restart();
        } else if (action === 'notify') {
          void this.notifyConfiguration();
        }
      }),
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
    const sub = await onPythonInterpreterChanged(() => {
      if (this.interpreter?.source !== 'setting') {
        this.log("the Python extension's interpreter changed: restarting the server");
        void this.restart();
      }
    }, (line) => this.output.appendLine(line));
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
      this.crashes = [];
      await this.doStart();
    });
  }

  dispose(): void {
    for (const d of this.disposables) {
      d.dispose();
    }
  }

  isRunning(): boolean {
    return this.client?.isRunning() === true;
  }

  canCancelIndexing(): boolean {
    return this.progress?.canCancel() === true;
  }

  async cancelIndexing(): Promise<void> {
    await this.progress?.cancelAll();
  }

  /** Waits for a start in progress; throws ServerNotRunningError when the server is not up. */
  async ensureRunning(): Promise<void> {
    await this.queue;
    if (!this.client?.isRunning()) {
      throw new ServerNotRunningError(this.notRunningReason());
    }
  }

  /** Sends `workspace/executeCommand`; waits for a start in progress first. */
  async execute(command: string, arg?: object): Promise<unknown> {
    await this.queue;
    const client = this.client;
    if (!client || !client.isRunning()) {
      throw new ServerNotRunningError(this.notRunningReason());
    }
    return client.sendRequest(ExecuteCommandRequest.type, {
      command,
      arguments: arg === undefined ? [] : [arg],
    });
  }

  /** Shows an error that always offers "Show Logs" (plus `extra` actions). */
  showError(message: string, extra: ProbeAction[] | string[] = []): void {
    const actions = [...new Set([...extra, 'Show Logs'])];
    this.output.appendLine(`[client] error: ${message}`);
    void vscode.window.showErrorMessage(message, ...actions).then((choice) => this.runAction(choice));
  }

  private runAction(choice: string | undefined): void {
    switch (choice) {
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

  private notRunningReason(): string {
    switch (this.phase.kind) {
      case 'restricted':
        return 'Codesearch does not run in Restricted Mode: trust this workspace first.';
      case 'noFolder':
        return 'Codesearch needs an open folder.';
      case 'failed':
        return `The Codesearch server is not running: ${this.phase.reason}.`;
      default:
        return 'The Codesearch server is not running.';
    }
  }

  private enqueue(task: () => Promise<void>): Promise<void> {
    const run = this.queue.then(task, task);
    this.queue = run.catch((err: unknown) => this.log(`unexpected error: ${String(err)}`));
    return this.queue;
  }

  private log(message: string): void {
    this.output.appendLine(`[client] ${message}`);
  }

  private setPhase(phase: ClientPhase): void {
    this.phase = phase;
    if (phase.kind !== 'running') {
      this.status = undefined;
    }
    this.render();
  }

  private render(): void {
    this.statusBar.render(formatStatus(this.phase, this.status, this.progress?.current()));
  }

  private firstFolder(): vscode.WorkspaceFolder | undefined {
    return vscode.workspace.workspaceFolders?.[0];
  }

  private async resolve(): Promise<Interpreter> {
    const folder = this.firstFolder();
    const config = vscode.workspace.getConfiguration('codesearch', folder?.uri);
    const settingPath = config.get<string>('server.pythonPath', '');
    const log = (line: string): void => this.output.appendLine(line);
    const fromExtension = settingPath.trim() ? undefined : await pythonExtensionInterpreter(folder?.uri, log);
    return resolveInterpreter({
      settingPath,
      pythonExtensionPath: fromExtension,
      paths: { workspaceFolder: folder?.uri.fsPath, env: process.env },
    });
  }

  private async doStart(): Promise<void> {
    if (this.client) {
      return;
    }
    if ((vscode.workspace.workspaceFolders?.length ?? 0) === 0) {
      this.setPhase({ kind: 'noFolder' });
      return;
    }
    if (!vscode.workspace.isTrusted) {
      // Never run an interpreter in an untrusted workspace: it may come from workspace settings
      // or the workspace's own environment.
      this.log('Restricted Mode: the server starts once the workspace is trusted');
      this.setPhase({ kind: 'restricted' });
      return;
    }
    const interpreter = await this.resolve();
    this.interpreter = interpreter;
    this.log(`interpreter: ${interpreter.path} (${describeSource(interpreter.source)})`);
    this.setPhase({ kind: 'checking', interpreter: interpreter.path });
    const outcome = await probeInterpreter(interpreter.path, this.context.extensionPath);
    if (outcome.kind !== 'ok') {
      const msg = probeMessage(interpreter, outcome, shippedWheel(this.context.extensionPath) !== undefined);
      if (outcome.kind === 'serverMissing' && outcome.info.error) {
        this.log(`import codesearch.lsp.server failed: ${outcome.info.error}`);
      }
      this.setPhase({ kind: 'failed', reason: msg.reason });
      this.showError(msg.message, msg.actions);
      return;
    }
    const info = outcome.info;
    this.log(
      `Python ${info.version.join('.')} at ${info.executable}` +
        (info.serverVersion ? `, codesearch ${info.serverVersion}` : ''),
    );

    this.setPhase({ kind: 'starting', interpreter: interpreter.path });
    const client = this.createClient(interpreter.path);
    this.client = client;
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
      this.setPhase({ kind: 'failed', reason: `the server did not start (${reason})` });
      this.showError(`Codesearch: the language server failed to start: ${reason}`, [
        'Restart Server',
        'Select Interpreter',
      ]);
      return;
    }
    this.setPhase({ kind: 'running' });
    // The first status may have been sent before our handler saw it; ask once.
    void client.sendRequest(ExecuteCommandRequest.type, { command: ServerCommand.status, arguments: [] }).then(
      (raw) => {
        const parsed = parseStatus(raw);
        if (parsed && this.client === client && !this.status) {
          this.status = parsed;
          this.render();
        }
      },
      (err: unknown) => this.log(`codesearch.status failed: ${String(err)}`),
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
    this.setPhase({ kind: 'stopped' });
  }

  /** The settings the server reads, for a folder (`scopeUri`) or the window. */
  settingsFor(scopeUri?: string): ServerSettings {
    const scope = scopeUri ? vscode.Uri.parse(scopeUri) : undefined;
    const folder = (scope ? vscode.workspace.getWorkspaceFolder(scope) : undefined) ?? this.firstFolder();
    const config = vscode.workspace.getConfiguration('codesearch', scope ?? folder?.uri);
    return toServerSettings((key) => config.get(key), { workspaceFolder: folder?.uri.fsPath, env: process.env });
  }

  private async notifyConfiguration(): Promise<void> {
    const client = this.client;
    if (!client?.isRunning()) {
      return;
    }
    try {
      await client.sendNotification(DidChangeConfigurationNotification.type, {
        settings: { codesearch: this.settingsFor() },
      });
    } catch (err) {
      this.log(`sending the new settings failed: ${String(err)}`);
    }
  }

  private createClient(python: string): LanguageClient {
    const logLevel = vscode.workspace.getConfiguration('codesearch').get<string>('logLevel', 'info');
    const serverOptions: ServerOptions = {
      command: python,
      args: serverArgs(logLevel),
      // No `transport`: TransportKind.stdio would append `--stdio`, which `codesearch serve`
      // does not take; an Executable without one talks over stdin/stdout all the same.
      // Not a workspace folder: `python -m` imports from the cwd on Pythons before 3.11.
      options: { cwd: this.context.extensionPath, env: pythonEnv() },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [{ scheme: 'file' }],
      outputChannel: this.output,
      traceOutputChannel: this.output,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      diagnosticCollectionName: 'codesearch',
      initializationOptions: this.settingsFor(),
      errorHandler: {
        error: (_error, _message, count) => ({
          action: (count ?? 0) <= 3 ? ErrorAction.Continue : ErrorAction.Shutdown,
          handled: true,
        }),
        closed: () => this.onServerClosed(),
      },
      middleware: {
        workspace: {
          // Answer `workspace/configuration` for section `codesearch` with the translated
          // settings (protocol keys only, paths expanded); other sections as VS Code has them.
          configuration: async (params, token, next) => {
            const result = await next(params, token);
            if (!Array.isArray(result)) {
              return result;
            }
            return params.items.map((item, i) =>
              item.section === 'codesearch' ? this.settingsFor(item.scopeUri) : (result[i] as unknown),
            );
          },
        },
      },
    };
    const client = new LanguageClient('codesearch', 'Codesearch', serverOptions, clientOptions);
    const progress = new StatusProgressFeature(client, () => {
      if (this.client === client) {
        this.render();
      }
    });
    client.registerFeature(progress);
    this.progress = progress;
    client.onNotification(STATUS_NOTIFICATION, (raw: unknown) => {
      const parsed = parseStatus(raw);
      if (!parsed) {
        this.log(`ignored a malformed ${STATUS_NOTIFICATION}: ${JSON.stringify(raw)}`);
        return;
      }
      if (this.client === client) {
        this.status = parsed;
        this.render();
      }
    });
    client.onDidChangeState((e) => {
      if (e.newState === State.Stopped && this.client === client && this.phase.kind === 'running') {
        this.status = undefined;
        this.render();
      }
    });
    return client;
  }

  private onServerClosed(): { action: CloseAction; handled: boolean } {
    const now = Date.now();
    this.crashes = this.crashes.filter((t) => now - t < CRASH_WINDOW_MS);
    this.crashes.push(now);
    this.status = undefined;
    if (this.crashes.length <= MAX_CRASH_RESTARTS) {
      this.log('the server exited unexpectedly: restarting it');
      this.render();
      return { action: CloseAction.Restart, handled: true };
    }
    const reason = `the server exited ${this.crashes.length} times in 3 minutes`;
    // The stopped client stays referenced so that a restart disposes it (and its diagnostics).
    this.setPhase({ kind: 'failed', reason });
    this.showError(`Codesearch: ${reason} and was not restarted.`, ['Restart Server']);
    return { action: CloseAction.DoNotRestart, handled: true };
  }

  /** Installs the server wheel shipped in the extension into the current interpreter. */
  async installServer(): Promise<void> {
    const interpreter = this.interpreter ?? (await this.resolve());
    const wheel = shippedWheel(this.context.extensionPath);
    if (!wheel) {
      this.showError(
        'Codesearch: this build of the extension ships no server wheel. Install the codesearch package into the interpreter with pip.',
        ['Select Interpreter'],
      );
      return;
    }
    if (!vscode.workspace.isTrusted) {
      this.showError('Codesearch: trust the workspace before installing the server.', ['Trust Workspace']);
      return;
    }
    const result = await vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: `Codesearch: installing the server into ${interpreter.path}`,
        cancellable: true,
      },
      (progress, token) => {
        progress.report({ message: `pip install ${path.basename(wheel)} (see the logs)` });
        return pipInstall(interpreter.path, wheel, this.context.extensionPath, this.output, token);
      },
    );
    if (result.code === 0) {
      void vscode.window.showInformationMessage('Codesearch: the server is installed. Starting it.');
      await this.restart();
      return;
    }
    if (result.cancelled) {
      return;
    }
    if (result.tail.includes('externally-managed-environment')) {
      this.showError(
        `Codesearch: ${interpreter.path} is managed by the system and pip refuses to install into it. Select a virtual environment instead.`,
        ['Select Interpreter'],
      );
      return;
    }
    this.showError(
      `Codesearch: installing the server into ${interpreter.path} failed${result.code !== null ? ` (pip exit code ${result.code})` : ''}.`,
      ['Select Interpreter'],
    );
  }

  /** Lets the user pick the interpreter; writes `codesearch.server.pythonPath` (user settings). */
  async selectInterpreter(): Promise<void> {
    type Pick = vscode.QuickPickItem & { run: () => Promise<string | undefined | null> };
    const picks: Pick[] = [];
    const folder = this.firstFolder();
    for (const rel of ['.venv/bin/python', 'venv/bin/python', '.venv/Scripts/python.exe']) {
      if (folder) {
        const candidate = path.join(folder.uri.fsPath, rel);
        if (fs.existsSync(candidate)) {
          picks.push({ label: `$(folder) ${rel}`, description: candidate, run: () => Promise.resolve(candidate) });
        }
      }
    }
    picks.push({
      label: '$(file-directory) Browse…',
      description: 'Choose a Python executable',
      run: async () => {
        const uris = await vscode.window.showOpenDialog({
          canSelectMany: false,
          openLabel: 'Use for Codesearch',
          title: 'Python interpreter for the Codesearch server',
        });
        return uris?.[0]?.fsPath;
      },
    });
    picks.push({
      label: '$(edit) Enter a path…',
      description: 'Type the path of a Python executable',
      run: async () =>
        vscode.window.showInputBox({
          title: 'Python interpreter for the Codesearch server',
          prompt: 'Path of a Python 3.10+ executable',
          value: this.interpreter?.path ?? '',
        }),
    });
    if (hasPythonExtension()) {
      picks.push({
        label: "$(symbol-namespace) Use the Python extension's interpreter",
        description: 'Clears codesearch.server.pythonPath and opens the Python extension’s picker',
        run: async () => {
          await vscode.commands.executeCommand('python.setInterpreter');
          return null;
        },
      });
    }
    const choice = await vscode.window.showQuickPick(picks, {
      title: 'Codesearch: Python interpreter for the server',
      placeHolder: `Current: ${this.interpreter?.path ?? 'not resolved yet'}`,
    });
    if (!choice) {
      return;
    }
    const value = await choice.run();
    if (value === undefined || (typeof value === 'string' && value.trim() === '')) {
      return;
    }
    const config = vscode.workspace.getConfiguration('codesearch');
    const target =
      config.inspect<string>('server.pythonPath')?.workspaceValue !== undefined
        ? vscode.ConfigurationTarget.Workspace
        : vscode.ConfigurationTarget.Global;
    // Writing the setting fires a configuration change, which restarts the server; so does a
    // change of the Python extension's interpreter.
    await config.update('server.pythonPath', value === null ? undefined : value.trim(), target);
  }

  /** The status item's menu. */
  async showMenu(): Promise<void> {
    type Entry = vscode.QuickPickItem & { command?: string; run?: () => Thenable<unknown> | undefined };
    const entries: Entry[] = [];
    if (this.phase.kind === 'failed') {
      entries.push({ label: '$(error) ' + this.phase.reason, kind: vscode.QuickPickItemKind.Separator });
      if (shippedWheel(this.context.extensionPath)) {
        entries.push({ label: '$(cloud-download) Install Server', command: ClientCommand.installServer });
      }
      entries.push({ label: '$(symbol-namespace) Select Interpreter', command: ClientCommand.selectInterpreter });
    }
    if (this.phase.kind === 'restricted') {
      entries.push({
        label: '$(shield) Manage Workspace Trust',
        run: () => vscode.commands.executeCommand('workbench.trust.manage'),
      });
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
    if (this.canCancelIndexing()) {
      entries.push({ label: '$(debug-stop) Cancel Indexing', run: () => this.cancelIndexing() });
    }
    entries.push(
      { label: '$(trash) Clear Index', command: ClientCommand.clearIndex },
      { label: '$(debug-restart) Restart Server', command: ClientCommand.restartServer },
      { label: '$(output) Show Logs', command: ClientCommand.showLogs },
    );
    const choice = await vscode.window.showQuickPick(entries, { title: 'Codesearch', placeHolder: 'Choose an action' });
    if (choice?.command) {
      await vscode.commands.executeCommand(choice.command);
    } else if (choice?.run) {
      await choice.run();
    }
  }
}
