/**
 * Types and names from the server contract (server/codesearch/lsp/PROTOCOL.md).
 * Pure: no `vscode` import, so unit tests run under plain Node.
 */

/** Commands the server answers through `workspace/executeCommand`. */
export const ServerCommand = {
  search: 'codesearch.search',
  findSimilar: 'codesearch.findSimilar',
  reindex: 'codesearch.reindex',
  status: 'codesearch.status',
  clearIndex: 'codesearch.clearIndex',
} as const;

/** The server's custom status notification. */
export const STATUS_NOTIFICATION = 'codesearch/status';

export type ServerState = 'starting' | 'indexing' | 'idle' | 'error' | 'disabled';

export interface StatusPayload {
  state: ServerState;
  entities: number;
  files: number;
  pending: number;
  failed: number;
  skipped: number;
  model: string;
  lastError: string | null;
  progress: { done: number; total: number } | null;
}

export interface Position {
  line: number;
  character: number;
}

export interface Range {
  start: Position;
  end: Position;
}

/** 'function' | 'method' | 'class' today; other kinds pass through as text. */
export type HitKind = string;

export interface Hit {
  uri: string;
  range: Range;
  name: string;
  kind: HitKind;
  language: string;
  path: string;
  score: number;
  snippet: string;
  matched?: string[];
}

export interface SearchArgs {
  query: string;
  limit?: number;
  language?: string;
  kind?: 'function' | 'method' | 'class';
  path?: string;
}

export interface FindSimilarArgs {
  uri: string;
  position: Position;
  limit?: number;
}

export interface ReindexResult {
  files: number;
  entities: number;
  embedded: number;
  cached: number;
  failed: number;
  removed: number;
  seconds: number;
}

const STATES: readonly string[] = ['starting', 'indexing', 'idle', 'error', 'disabled'];

function num(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

/**
 * Reads a `codesearch/status` payload defensively: a missing or mistyped field becomes a neutral
 * value instead of an exception in the notification handler. Returns undefined when the payload
 * is not an object or its state is unknown.
 */
export function parseStatus(raw: unknown): StatusPayload | undefined {
  if (typeof raw !== 'object' || raw === null) {
    return undefined;
  }
  const r = raw as Record<string, unknown>;
  if (typeof r.state !== 'string' || !STATES.includes(r.state)) {
    return undefined;
  }
  let progress: StatusPayload['progress'] = null;
  if (typeof r.progress === 'object' && r.progress !== null) {
    const p = r.progress as Record<string, unknown>;
    progress = { done: num(p.done), total: num(p.total) };
  }
  return {
    state: r.state as ServerState,
    entities: num(r.entities),
    files: num(r.files),
    pending: num(r.pending),
    failed: num(r.failed),
    skipped: num(r.skipped),
    model: typeof r.model === 'string' ? r.model : '',
    lastError: typeof r.lastError === 'string' && r.lastError !== '' ? r.lastError : null,
    progress,
  };
}

/** Keeps the entries of a command result that look like hits; drops the rest. */
export function parseHits(raw: unknown): Hit[] {
  if (!Array.isArray(raw)) {
    return [];
  }
  const hits: Hit[] = [];
  for (const item of raw as unknown[]) {
    if (typeof item !== 'object' || item === null) {
      continue;
    }
    const h = item as Record<string, unknown>;
    if (typeof h.uri !== 'string' || typeof h.name !== 'string' || !isRange(h.range)) {
      continue;
    }
    hits.push({
      uri: h.uri,
      range: h.range,
      name: h.name,
      kind: typeof h.kind === 'string' ? h.kind : '',
      language: typeof h.language === 'string' ? h.language : '',
      path: typeof h.path === 'string' ? h.path : '',
      score: num(h.score),
      snippet: typeof h.snippet === 'string' ? h.snippet : '',
      matched: Array.isArray(h.matched) ? h.matched.filter((m): m is string => typeof m === 'string') : [],
    });
  }
  return hits;
}

function isPosition(value: unknown): value is Position {
  if (typeof value !== 'object' || value === null) {
    return false;
  }
  const p = value as Record<string, unknown>;
  return typeof p.line === 'number' && typeof p.character === 'number';
}

function isRange(value: unknown): value is Range {
  if (typeof value !== 'object' || value === null) {
    return false;
  }
  const r = value as Record<string, unknown>;
  return isPosition(r.start) && isPosition(r.end);
}
