/**
 * Talking to Python: the Python extension's active interpreter, the probe that checks an
 * interpreter can run the server, and installing the shipped server wheel.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  classifyProbe,
  PROBE_SCRIPT,
  pickServerWheel,
  pipInstallArgs,
  type ProbeOutcome,
  type ProbeRun,
} from './logic/interpreter';

const PYTHON_EXTENSION_ID = 'ms-python.python';

/** The part of the Python extension's API used here (ms-python.python, `environments`). */
interface PythonEnvironmentPath {
  id: string;
  path: string;
}

interface PythonExtensionApi {
  environments?: {
    getActiveEnvironmentPath(resource?: vscode.Uri): PythonEnvironmentPath;
    resolveEnvironment(
      env: PythonEnvironmentPath | string,
    ): Promise<{ executable: { uri?: vscode.Uri } } | undefined>;
    onDidChangeActiveEnvironmentPath: vscode.Event<unknown>;
  };
  settings?: {
    getExecutionDetails(resource?: vscode.Uri): { execCommand: string[] | undefined };
    onDidChangeExecutionDetails: vscode.Event<vscode.Uri | undefined>;
  };
}

export function hasPythonExtension(): boolean {
  return vscode.extensions.getExtension(PYTHON_EXTENSION_ID) !== undefined;
}

async function pythonApi(log: (line: string) => void): Promise<PythonExtensionApi | undefined> {
  const ext = vscode.extensions.getExtension<PythonExtensionApi>(PYTHON_EXTENSION_ID);
  if (!ext) {
    return undefined;
  }
  try {
    return ext.isActive ? ext.exports : await ext.activate();
  } catch (err) {
    log(`[client] the Python extension failed to activate: ${String(err)}`);
    return undefined;
  }
}

/** The Python extension's active interpreter for `resource`, if the extension is installed. */
export async function pythonExtensionInterpreter(
  resource: vscode.Uri | undefined,
  log: (line: string) => void,
): Promise<string | undefined> {
  const api = await pythonApi(log);
  if (!api) {
    return undefined;
  }
  try {
    if (api.environments) {
      const active = api.environments.getActiveEnvironmentPath(resource);
      const resolved = await api.environments.resolveEnvironment(active);
      return resolved?.executable.uri?.fsPath ?? active.path;
    }
    const cmd = api.settings?.getExecutionDetails(resource).execCommand;
    return cmd && cmd.length > 0 ? cmd[0] : undefined;
  } catch (err) {
    log(`[client] could not read the Python extension's interpreter: ${String(err)}`);
    return undefined;
  }
}

/** Fires when the Python extension's active interpreter changes (no-op without it). */
export async function onPythonInterpreterChanged(
  listener: () => void,
  log: (line: string) => void,
): Promise<vscode.Disposable | undefined> {
  const api = await pythonApi(log);
  if (api?.environments) {
    return api.environments.onDidChangeActiveEnvironmentPath(() => listener());
  }
  if (api?.settings) {
    return api.settings.onDidChangeExecutionDetails(() => listener());
  }
  return undefined;
}

/** Environment for every Python we start: unbuffered output, and no import from the cwd. */
export function pythonEnv(): NodeJS.ProcessEnv {
  return { ...process.env, PYTHONUNBUFFERED: '1', PYTHONSAFEPATH: '1', PYTHONIOENCODING: 'utf-8' };
}

const PROBE_TIMEOUT_MS = 90_000;

/**
 * Runs the probe script with `python` and classifies the result. `cwd` must not be a workspace
 * folder: `python -c` puts the cwd first on sys.path on Pythons before 3.11.
 */
export function probeInterpreter(python: string, cwd: string): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    let settled = false;
    const finish = (run: ProbeRun): void => {
      if (!settled) {
        settled = true;
        clearTimeout(timer);
        resolve(classifyProbe(run));
      }
    };
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(python, ['-c', PROBE_SCRIPT], { cwd, env: pythonEnv(), windowsHide: true });
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      resolve(classifyProbe({ spawnError: { code: e.code, message: e.message }, exitCode: null, stdout, stderr }));
      return;
    }
    const timer = setTimeout(() => {
      child.kill();
      finish({
        spawnError: { code: 'ETIMEDOUT', message: `the check did not finish in ${PROBE_TIMEOUT_MS / 1000} s` },
        exitCode: null,
        stdout,
        stderr,
      });
    }, PROBE_TIMEOUT_MS);
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('error', (err: NodeJS.ErrnoException) =>
      finish({ spawnError: { code: err.code, message: err.message }, exitCode: null, stdout, stderr }),
    );
    child.on('close', (code) => finish({ exitCode: code, stdout, stderr }));
  });
}

/** The server wheel shipped inside the extension (`server/codesearch-*.whl`), if any. */
export function shippedWheel(extensionPath: string): string | undefined {
  const dir = path.join(extensionPath, 'server');
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return undefined;
  }
  const name = pickServerWheel(names);
  return name ? path.join(dir, name) : undefined;
}

/**
 * `python -m pip install --upgrade WHEEL`, with its output in the log channel.
 * Resolves with the exit code (null when cancelled or not started) and the tail of its output.
 */
export function pipInstall(
  python: string,
  wheel: string,
  cwd: string,
  output: vscode.OutputChannel,
  token: vscode.CancellationToken,
): Promise<{ code: number | null; tail: string; cancelled: boolean }> {
  return new Promise((resolve) => {
    const args = pipInstallArgs(wheel);
    output.appendLine(`[client] ${python} ${args.join(' ')}`);
    let tail = '';
    const keep = (chunk: string): void => {
      output.append(chunk);
      tail = (tail + chunk).slice(-4000);
    };
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(python, args, { cwd, env: pythonEnv(), windowsHide: true });
    } catch (err) {
      resolve({ code: null, tail: String(err), cancelled: false });
      return;
    }
    const sub = token.onCancellationRequested(() => {
      output.appendLine('[client] install cancelled');
      child.kill();
    });
    child.stdout?.on('data', (d: Buffer) => keep(d.toString('utf8')));
    child.stderr?.on('data', (d: Buffer) => keep(d.toString('utf8')));
    child.on('error', (err) => {
      sub.dispose();
      keep(`${String(err)}\n`);
      resolve({ code: null, tail, cancelled: token.isCancellationRequested });
    });
    child.on('close', (code) => {
      sub.dispose();
      output.appendLine(`[client] pip exited with code ${String(code)}`);
      const cancelled = token.isCancellationRequested;
      resolve({ code: cancelled ? null : code, tail, cancelled });
    });
  });
}
