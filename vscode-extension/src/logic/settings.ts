/**
 * Translation of the extension's `codesearch.*` settings into what the server reads
 * (`initializationOptions` and the answer to `workspace/configuration`), and the rules for which
 * setting changes need a server restart. Pure.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import {
  CONFIG_SECTION,
  LOG_LEVELS,
  RESTART_SETTING_KEYS,
  SERVER_SETTING_DEFAULTS,
  SERVER_SETTING_KEYS,
  type ServerSettings,
} from './contract';

export { LOG_LEVELS, SERVER_SETTING_DEFAULTS, SERVER_SETTING_KEYS, type ServerSettings } from './contract';

/** Client settings that shape the server's command line; a change to one restarts the server. */
export const RESTART_SETTINGS: readonly string[] = RESTART_SETTING_KEYS.map((key) => `${CONFIG_SECTION}.${key}`);

/** Settings the server reads; a change to one is forwarded to it. */
const SERVER_SECTIONS: readonly string[] = SERVER_SETTING_KEYS.map((key) => `${CONFIG_SECTION}.${key}`);

export type LogLevel = (typeof LOG_LEVELS)[number];

export interface PathContext {
  /** First workspace folder, used for `${workspaceFolder}` and relative paths. */
  workspaceFolder?: string;
  /** Home folder, for a leading `~`. */
  home?: string;
  env?: Record<string, string | undefined>;
}

/**
 * Expands `~`, `${userHome}`, `${workspaceFolder}` and `${env:NAME}` in a path-like setting.
 * Relative results are resolved against the workspace folder when `resolveRelative` is set.
 */
export function expandPath(value: string, ctx: PathContext, resolveRelative = false): string {
  const home = ctx.home ?? os.homedir();
  let out = value.trim();
  if (out === '') {
    return out;
  }
  out = out.replace(/\$\{userHome\}/g, home);
  if (ctx.workspaceFolder !== undefined) {
    out = out.replace(/\$\{workspaceFolder\}/g, ctx.workspaceFolder);
  }
  out = out.replace(/\$\{env:([^}]+)\}/g, (_m, name: string) => ctx.env?.[name] ?? '');
  if (out === '~') {
    out = home;
  } else if (out.startsWith('~/') || out.startsWith('~\\')) {
    out = path.join(home, out.slice(2));
  }
  if (resolveRelative && ctx.workspaceFolder !== undefined && looksLikeRelativePath(out)) {
    out = path.resolve(ctx.workspaceFolder, out);
  }
  return out;
}

function looksLikeRelativePath(value: string): boolean {
  return !path.isAbsolute(value) && (value.startsWith('./') || value.startsWith('../') || value.includes('/'));
}

function isModelPath(value: string): boolean {
  return (
    value.startsWith('~') ||
    value.startsWith('.') ||
    value.startsWith('/') ||
    value.startsWith('${') ||
    /^[A-Za-z]:[\\/]/.test(value)
  );
}

/**
 * Builds the object sent to the server from a reader of `codesearch.<key>` values.
 * Only the keys of PROTOCOL.md go out (client-only settings such as `server.pythonPath` and
 * `logLevel` stay here). Values of the right JSON type pass through unchanged apart from path
 * expansion; values of the wrong type are passed as they are too, so that the server reports
 * them (it replaces invalid values by defaults and says so), except `undefined`, which becomes
 * the default.
 */
export function toServerSettings(read: (key: keyof ServerSettings) => unknown, ctx: PathContext = {}): ServerSettings {
  const out: Record<string, unknown> = {};
  for (const key of SERVER_SETTING_KEYS) {
    const value = read(key);
    out[key] = value === undefined || value === null ? cloneDefault(key) : value;
  }
  if (typeof out.model === 'string') {
    const model = out.model.trim();
    out.model = isModelPath(model) ? expandPath(model, ctx, true) : model;
  }
  if (typeof out.storeDir === 'string') {
    out.storeDir = expandPath(out.storeDir, ctx, true);
  }
  if (Array.isArray(out.exclude)) {
    out.exclude = (out.exclude as unknown[]).filter((g) => !(typeof g === 'string' && g.trim() === ''));
  }
  return out as unknown as ServerSettings;
}

function cloneDefault<K extends keyof ServerSettings>(key: K): ServerSettings[K] {
  const value = SERVER_SETTING_DEFAULTS[key];
  return (Array.isArray(value) ? value.slice() : value) as ServerSettings[K];
}

export type ConfigChangeAction = 'restart' | 'notify' | 'none';

/**
 * Decides what a configuration change means for the running server: `restart` when the
 * interpreter or a server command-line setting changed, `notify` (send
 * `workspace/didChangeConfiguration`) for the settings the server reads itself, `none` for the
 * rest (the extension's own settings, such as `agentTools.enable`, included).
 */
export function classifyConfigChange(affects: (section: string) => boolean): ConfigChangeAction {
  if (RESTART_SETTINGS.some((s) => affects(s))) {
    return 'restart';
  }
  if (SERVER_SECTIONS.some((s) => affects(s))) {
    return 'notify';
  }
  return 'none';
}

/** Normalises the `codesearch.logLevel` setting ("warn" and upper case accepted). */
export function normalizeLogLevel(value: unknown): LogLevel {
  if (typeof value !== 'string') {
    return 'info';
  }
  const v = value.trim().toLowerCase();
  if (v === 'warn') {
    return 'warning';
  }
  return (LOG_LEVELS as readonly string[]).includes(v) ? (v as LogLevel) : 'info';
}

/** Arguments after the interpreter: `-m codesearch serve --log-level LEVEL`. */
export function serverArgs(logLevel: unknown): string[] {
  return ['-m', 'codesearch', 'serve', '--log-level', normalizeLogLevel(logLevel)];
}
