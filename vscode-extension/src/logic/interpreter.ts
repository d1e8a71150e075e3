/**
 * Which Python runs the server, and whether it can: resolution order, the probe script and the
 * reading of its output, and the message shown when the interpreter is not usable. Pure.
 */
import { expandPath, type PathContext } from './settings';

export type InterpreterSource = 'setting' | 'pythonExtension' | 'default';

export interface Interpreter {
  /** Executable path or command name. */
  path: string;
  source: InterpreterSource;
}

export interface ResolveInput {
  /** Value of `codesearch.server.pythonPath` ('' or undefined when unset). */
  settingPath?: string;
  /** Active interpreter of the Python extension, when it is installed and has one. */
  pythonExtensionPath?: string;
  platform?: NodeJS.Platform;
  paths?: PathContext;
}

export const MIN_PYTHON: readonly [number, number] = [3, 10];

/** The default command when neither the setting nor the Python extension names an interpreter. */
export function defaultPython(platform: NodeJS.Platform = process.platform): string {
  return platform === 'win32' ? 'python' : 'python3';
}

/**
 * Resolution order: the `codesearch.server.pythonPath` setting, then the Python extension's
 * active environment, then `python3` (`python` on Windows).
 */
export function resolveInterpreter(input: ResolveInput): Interpreter {
  const setting = input.settingPath?.trim();
  if (setting) {
    return { path: expandPath(setting, input.paths ?? {}, true), source: 'setting' };
  }
  const fromExtension = input.pythonExtensionPath?.trim();
  if (fromExtension) {
    return { path: fromExtension, source: 'pythonExtension' };
  }
  return { path: defaultPython(input.platform), source: 'default' };
}

export function describeSource(source: InterpreterSource): string {
  switch (source) {
    case 'setting':
      return 'from the setting codesearch.server.pythonPath';
    case 'pythonExtension':
      return "the Python extension's active environment";
    case 'default':
      return 'the default on the PATH';
  }
}

/** Marker that starts the probe's JSON line, so stray output before it is ignored. */
export const PROBE_MARKER = 'CODESEARCH_PROBE:';

/**
 * Python source run with `python -c`: prints one marker line with the version, the executable,
 * and whether `codesearch.lsp.server` imports. Written for Python 2.7 and 3.x alike so an old
 * interpreter still reports its version instead of a syntax error.
 */
export const PROBE_SCRIPT = [
  'import json, sys',
  'info = {"version": list(sys.version_info[:3]), "executable": sys.executable, "server": False, "error": None, "serverVersion": None}',
  'if sys.version_info >= (3, 10):',
  '    try:',
  '        import codesearch.lsp.server',
  '        import codesearch',
  '        info["server"] = True',
  '        info["serverVersion"] = getattr(codesearch, "__version__", None)',
  '    except BaseException as exc:',
  '        info["error"] = "%s: %s" % (type(exc).__name__, exc)',
  `sys.stdout.write("${PROBE_MARKER}" + json.dumps(info) + "\\n")`,
].join('\n');

export interface ProbeInfo {
  version: [number, number, number];
  executable: string;
  server: boolean;
  error: string | null;
  serverVersion: string | null;
}

/** Reads the probe's output; undefined when no marker line with valid JSON is found. */
export function parseProbeOutput(stdout: string): ProbeInfo | undefined {
  const line = stdout
    .split(/\r?\n/)
    .reverse()
    .find((l) => l.startsWith(PROBE_MARKER));
  if (!line) {
    return undefined;
  }
  try {
    const data = JSON.parse(line.slice(PROBE_MARKER.length)) as Record<string, unknown>;
    const v = data.version;
    if (!Array.isArray(v) || v.length < 2 || !v.every((n) => typeof n === 'number')) {
      return undefined;
    }
    const nums: number[] = v;
    const version: [number, number, number] = [nums[0], nums[1], nums.length > 2 ? nums[2] : 0];
    return {
      version,
      executable: typeof data.executable === 'string' ? data.executable : '',
      server: data.server === true,
      error: typeof data.error === 'string' ? data.error : null,
      serverVersion: typeof data.serverVersion === 'string' ? data.serverVersion : null,
    };
  } catch {
    return undefined;
  }
}

export function versionAtLeast(version: readonly number[], min: readonly number[] = MIN_PYTHON): boolean {
  for (let i = 0; i < min.length; i++) {
    const a = version[i] ?? 0;
    const b = min[i] ?? 0;
    if (a !== b) {
      return a > b;
    }
  }
  return true;
}

/** Outcome of running the probe with an interpreter. */
export type ProbeOutcome =
  | { kind: 'ok'; info: ProbeInfo }
  | { kind: 'notFound'; detail: string }
  | { kind: 'failed'; detail: string }
  | { kind: 'tooOld'; info: ProbeInfo }
  | { kind: 'serverMissing'; info: ProbeInfo };

export interface ProbeRun {
  /** Error of the spawn itself (ENOENT, EACCES, a timeout), if any. */
  spawnError?: { code?: string; message: string };
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

export function classifyProbe(run: ProbeRun): ProbeOutcome {
  if (run.spawnError) {
    const code = run.spawnError.code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'ENOTDIR') {
      return { kind: 'notFound', detail: run.spawnError.message };
    }
    return { kind: 'failed', detail: run.spawnError.message };
  }
  const info = parseProbeOutput(run.stdout);
  if (!info) {
    const detail = (run.stderr || run.stdout).trim().split(/\r?\n/).slice(-5).join('\n');
    return { kind: 'failed', detail: detail || `exit code ${String(run.exitCode)}` };
  }
  if (!versionAtLeast(info.version)) {
    return { kind: 'tooOld', info };
  }
  if (!info.server) {
    return { kind: 'serverMissing', info };
  }
  return { kind: 'ok', info };
}

/** Actions offered with a probe failure. */
export type ProbeAction = 'Install Server' | 'Select Interpreter' | 'Show Logs';

export interface ProbeMessage {
  message: string;
  /** Short reason for the status bar tooltip. */
  reason: string;
  actions: ProbeAction[];
}

/** The error message (and its actions) for an interpreter that cannot run the server. */
export function probeMessage(
  interpreter: Interpreter,
  outcome: Exclude<ProbeOutcome, { kind: 'ok' }>,
  canInstall: boolean,
): ProbeMessage {
  const where = `${interpreter.path} (${describeSource(interpreter.source)})`;
  const minimum = MIN_PYTHON.join('.');
  switch (outcome.kind) {
    case 'notFound':
      return {
        message: `Codesearch: the Python interpreter ${where} was not found. Select a Python ${minimum}+ interpreter to run the Codesearch server.`,
        reason: `Python interpreter ${interpreter.path} not found`,
        actions: ['Select Interpreter', 'Show Logs'],
      };
    case 'failed':
      return {
        message: `Codesearch: could not run the Python interpreter ${where}: ${outcome.detail}`,
        reason: `could not run ${interpreter.path}`,
        actions: ['Select Interpreter', 'Show Logs'],
      };
    case 'tooOld': {
      const v = outcome.info.version.join('.');
      return {
        message: `Codesearch needs Python ${minimum} or newer, but ${where} is Python ${v}. Select another interpreter.`,
        reason: `Python ${v} is too old (needs ${minimum}+)`,
        actions: ['Select Interpreter', 'Show Logs'],
      };
    }
    case 'serverMissing': {
      const detail = outcome.info.error ? ` (${outcome.info.error})` : '';
      return {
        message:
          `Codesearch: the server is not installed in ${where}${detail}. ` +
          (canInstall
            ? 'Install it into this interpreter, or select one that has it.'
            : 'Install the codesearch package into this interpreter, or select one that has it.'),
        reason: `the codesearch server is not installed in ${interpreter.path}`,
        actions: canInstall ? ['Install Server', 'Select Interpreter', 'Show Logs'] : ['Select Interpreter', 'Show Logs'],
      };
    }
  }
}

/**
 * Picks the server wheel shipped with the extension from a folder listing: the highest
 * `codesearch-<version>-*.whl`, or undefined.
 */
export function pickServerWheel(fileNames: readonly string[]): string | undefined {
  const wheels = fileNames
    .map((name) => ({ name, match: /^codesearch-([0-9][^-]*)-.+\.whl$/.exec(name) }))
    .filter((w): w is { name: string; match: RegExpExecArray } => w.match !== null);
  wheels.sort((a, b) => compareVersions(b.match[1], a.match[1]));
  return wheels[0]?.name;
}

/** Compares dotted versions numerically ("0.10.0" > "0.9.1"); non-numeric parts compare as text. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.+]/);
  const pb = b.split(/[.+]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '0';
    const y = pb[i] ?? '0';
    const nx = Number(x);
    const ny = Number(y);
    if (Number.isFinite(nx) && Number.isFinite(ny)) {
      if (nx !== ny) {
        return nx - ny;
      }
    } else if (x !== y) {
      return x < y ? -1 : 1;
    }
  }
  return 0;
}

/** Arguments for installing the shipped wheel: `-m pip install --upgrade WHEEL`. */
export function pipInstallArgs(wheelPath: string): string[] {
  return ['-m', 'pip', 'install', '--upgrade', '--disable-pip-version-check', wheelPath];
}
