/**
 * Which Python runs the server, and getting the server into it: the interpreter from the
 * setting or the Python extension, the picker behind "Select Interpreter", and "Install
 * Server" (pip-installs the wheel shipped in the extension, then restarts the server).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { CONFIG_SECTION } from '../logic/contract';
import {
  describeSource,
  type Interpreter,
  type ProbeMessage,
  probeMessage,
  resolveInterpreter,
} from '../logic/interpreter';
import { hasPythonExtension, pipInstall, probeInterpreter, pythonExtensionInterpreter, shippedWheel } from '../python';

const PYTHON_PATH = 'server.pythonPath';

/** What the interpreter flows need from the lifecycle that owns the server. */
export interface InterpreterHost {
  readonly extensionPath: string;
  readonly output: vscode.OutputChannel;
  /** The interpreter of the last start, if any. */
  current(): Interpreter | undefined;
  showError(message: string, actions?: string[]): void;
  restart(): Promise<void>;
}

export function firstFolder(): vscode.WorkspaceFolder | undefined {
  return vscode.workspace.workspaceFolders?.[0];
}

/** The interpreter to run: `codesearch.server.pythonPath`, else the Python extension's, else python3. */
export async function resolveServerInterpreter(output: vscode.OutputChannel): Promise<Interpreter> {
  const folder = firstFolder();
  const config = vscode.workspace.getConfiguration(CONFIG_SECTION, folder?.uri);
  const settingPath = config.get<string>(PYTHON_PATH, '');
  const log = (line: string): void => output.appendLine(line);
  const fromExtension = settingPath.trim() ? undefined : await pythonExtensionInterpreter(folder?.uri, log);
  return resolveInterpreter({
    settingPath,
    pythonExtensionPath: fromExtension,
    paths: { workspaceFolder: folder?.uri.fsPath, env: process.env },
  });
}

/** Whether `interpreter` can run the server; the message and its fixes when it cannot. */
export async function checkInterpreter(
  interpreter: Interpreter,
  extensionPath: string,
  log: (line: string) => void,
): Promise<ProbeMessage | undefined> {
  log(`[client] interpreter: ${interpreter.path} (${describeSource(interpreter.source)})`);
  const outcome = await probeInterpreter(interpreter.path, extensionPath);
  if (outcome.kind !== 'ok') {
    if (outcome.kind === 'serverMissing' && outcome.info.error) {
      log(`[client] import codesearch.lsp.server failed: ${outcome.info.error}`);
    }
    return probeMessage(interpreter, outcome, shippedWheel(extensionPath) !== undefined);
  }
  const info = outcome.info;
  const server = info.serverVersion ? `, codesearch ${info.serverVersion}` : '';
  log(`[client] Python ${info.version.join('.')} at ${info.executable}${server}`);
  return undefined;
}

/** Installs the server wheel shipped in the extension into the current interpreter. */
export async function installServer(host: InterpreterHost): Promise<void> {
  const interpreter = host.current() ?? (await resolveServerInterpreter(host.output));
  const wheel = shippedWheel(host.extensionPath);
  if (!wheel) {
    host.showError(
      'Codesearch: this build of the extension ships no server wheel. Install the codesearch package into the interpreter with pip.',
      ['Select Interpreter'],
    );
    return;
  }
  if (!vscode.workspace.isTrusted) {
    host.showError('Codesearch: trust the workspace before installing the server.', ['Trust Workspace']);
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
      return pipInstall(interpreter.path, wheel, host.extensionPath, host.output, token);
    },
  );
  if (result.code === 0) {
    void vscode.window.showInformationMessage('Codesearch: the server is installed. Starting it.');
    await host.restart();
    return;
  }
  if (result.cancelled) {
    return;
  }
  if (result.tail.includes('externally-managed-environment')) {
    host.showError(
      `Codesearch: ${interpreter.path} is managed by the system and pip refuses to install into it. Select a virtual environment instead.`,
      ['Select Interpreter'],
    );
    return;
  }
  host.showError(
    `Codesearch: installing the server into ${interpreter.path} failed${result.code !== null ? ` (pip exit code ${result.code})` : ''}.`,
    ['Select Interpreter'],
  );
}

type Pick = vscode.QuickPickItem & { run: () => Promise<string | undefined | null> };

function interpreterPicks(current: Interpreter | undefined): Pick[] {
  const picks: Pick[] = [];
  const folder = firstFolder();
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
        value: current?.path ?? '',
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
  return picks;
}

/** Lets the user pick the interpreter; writes `codesearch.server.pythonPath` (user settings). */
export async function selectInterpreter(host: InterpreterHost): Promise<void> {
  const current = host.current();
  const choice = await vscode.window.showQuickPick(interpreterPicks(current), {
    title: 'Codesearch: Python interpreter for the server',
    placeHolder: `Current: ${current?.path ?? 'not resolved yet'}`,
  });
  if (!choice) {
    return;
  }
  const value = await choice.run();
  if (value === undefined || (typeof value === 'string' && value.trim() === '')) {
    return;
  }
  const config = vscode.workspace.getConfiguration(CONFIG_SECTION);
  const target =
    config.inspect<string>(PYTHON_PATH)?.workspaceValue !== undefined
      ? vscode.ConfigurationTarget.Workspace
      : vscode.ConfigurationTarget.Global;
  // Writing the setting fires a configuration change, which restarts the server; so does a
  // change of the Python extension's interpreter.
  await config.update(PYTHON_PATH, value === null ? undefined : value.trim(), target);
}
