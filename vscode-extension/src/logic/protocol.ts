/**
 * Reading what the server sends: status payloads and hits, defensively. The names and shapes
 * come from the generated contract (./contract.ts, from server/codesearch/contract.py).
 * Pure: no `vscode` import, so unit tests run under plain Node.
 */
import { type Hit, type Position, type Range, SERVER_STATES, type ServerState, type StatusPayload } from './contract';

export {
  type FindSimilarArgs,
  type Hit,
  type Position,
  type Range,
  type ReindexResult,
  type SearchArgs,
  ServerCommand,
  type ServerState,
  STATUS_NOTIFICATION,
  type StatusPayload,
} from './contract';

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
  if (typeof r.state !== 'string' || !(SERVER_STATES as readonly string[]).includes(r.state)) {
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
    embeddedTotal: num(r.embeddedTotal),
    paused: r.paused === true,
    sharedCache: parseSharedCache(r.sharedCache),
    notice: typeof r.notice === 'string' && r.notice !== '' ? r.notice : null,
  };
}

function parseSharedCache(raw: unknown): StatusPayload['sharedCache'] {
  if (typeof raw !== 'object' || raw === null) {
    return null;
  }
  const c = raw as Record<string, unknown>;
  if (typeof c.url !== 'string') {
    return null;
  }
  return { url: c.url, problem: typeof c.problem === 'string' && c.problem !== '' ? c.problem : null };
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
      weak: h.weak === true,
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
