/**
 * Search hits as QuickPick items, and the pieces of search-as-you-type that do not need VS Code:
 * a debouncer and a guard that drops answers to queries that are no longer current. Pure.
 */
import { DEFAULT_SYMBOL_KIND, type Hit, SYMBOL_KINDS } from './contract';

/** Shape of a `vscode.QuickPickItem` (minus `vscode` types) carrying its hit. */
export interface HitItem {
  label: string;
  description: string;
  detail: string;
  /** Semantic hits rarely contain the typed words: without this VS Code filters them away. */
  alwaysShow: true;
  hit: Hit;
}

/** A separator line of the list, with its label. */
export interface SeparatorEntry {
  separator: true;
  label: string;
}

export type HitEntry = HitItem | SeparatorEntry;

export const WEAK_MATCH = 'weak match';
export const NO_STRONG_MATCH = 'No strong match';
export const WEAK_MATCHES = 'Weak matches';

/** The codicon of an entity kind: that of its LSP symbol kind, as `workspace/symbol` shows it. */
export function kindIcon(kind: string): string {
  return `symbol-${(SYMBOL_KINDS[kind] ?? DEFAULT_SYMBOL_KIND).toLowerCase()}`;
}

export const MAX_SNIPPET = 160;

/** Collapses a snippet to one line of at most `max` characters. */
export function oneLine(text: string, max = MAX_SNIPPET): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/**
 * label: kind icon + qualified name; description: kind and path:line (1-based), and "weak
 * match" when the server says the hit is only loosely related; detail: the first line of the
 * entity's source.
 */
export function hitToItem(hit: Hit): HitItem {
  const icon = kindIcon(hit.kind);
  const line = hit.range.start.line + 1;
  const where = hit.path || fileNameOf(hit.uri);
  const description = [hit.kind, `${where}:${line}`, hit.weak ? `· ${WEAK_MATCH}` : '']
    .filter((s) => s !== '')
    .join('  ');
  return {
    label: `$(${icon}) ${hit.name}`,
    description,
    detail: oneLine(hit.snippet),
    alwaysShow: true,
    hit,
  };
}

/**
 * The title of the search-as-you-type box for its current hits: it says "No strong match"
 * when every hit is weak, so nobody takes the best of a bad lot for an answer. (A separator
 * would not do there: VS Code hides separators while the box holds text.)
 */
export function searchTitle(hits: readonly Hit[]): string {
  return hits.length > 0 && hits.every((h) => h.weak)
    ? `Codesearch: ${NO_STRONG_MATCH}, every result is a weak match`
    : 'Codesearch';
}

/**
 * The list for a set of hits, best first, for a list shown without typed text (Find
 * Similar): when every hit is weak, a "No strong match" line heads it; when the weak hits
 * follow the strong ones, a "Weak matches" line parts them.
 */
export function hitEntries(hits: readonly Hit[]): HitEntry[] {
  const items = hits.map(hitToItem);
  const firstWeak = hits.findIndex((h) => h.weak);
  if (firstWeak < 0) {
    return items;
  }
  if (firstWeak === 0 && hits.every((h) => h.weak)) {
    return [{ separator: true, label: NO_STRONG_MATCH }, ...items];
  }
  if (hits.slice(firstWeak).every((h) => h.weak)) {
    return [...items.slice(0, firstWeak), { separator: true, label: WEAK_MATCHES }, ...items.slice(firstWeak)];
  }
  return items;
}

function fileNameOf(uri: string): string {
  const last = uri.split('/').pop() ?? uri;
  try {
    return decodeURIComponent(last);
  } catch {
    return last;
  }
}

/** The range to select when a hit opens: anchored at its end, cursor at its start. */
export function selectionFor(hit: Hit): { anchor: Hit['range']['end']; active: Hit['range']['start'] } {
  return { anchor: hit.range.end, active: hit.range.start };
}

export interface Debounced<A extends unknown[]> {
  (...args: A): void;
  cancel(): void;
  /** Runs a pending call now, if any. */
  flush(): void;
}

/** Calls `fn` once calls have stopped for `waitMs`, with the last arguments. */
export function debounce<A extends unknown[]>(fn: (...args: A) => void, waitMs: number): Debounced<A> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let pending: A | undefined;
  const run = (): void => {
    timer = undefined;
    const args = pending;
    pending = undefined;
    if (args) {
      fn(...args);
    }
  };
  const debounced = ((...args: A): void => {
    pending = args;
    if (timer !== undefined) {
      clearTimeout(timer);
    }
    timer = setTimeout(run, waitMs);
  }) as Debounced<A>;
  debounced.cancel = (): void => {
    if (timer !== undefined) {
      clearTimeout(timer);
    }
    timer = undefined;
    pending = undefined;
  };
  debounced.flush = (): void => {
    if (timer !== undefined) {
      clearTimeout(timer);
      run();
    }
  };
  return debounced;
}

/**
 * Hands out a ticket per request; only the newest ticket is current, so an answer to an older
 * query that arrives late is dropped instead of replacing newer results.
 */
export class LatestOnly {
  private counter = 0;

  next(): number {
    this.counter += 1;
    return this.counter;
  }

  isCurrent(ticket: number): boolean {
    return ticket === this.counter;
  }

  /** Makes every ticket handed out so far stale. */
  invalidate(): void {
    this.counter += 1;
  }
}

/** Message for a finished reindex, e.g. "Codesearch: indexed 97 files, 1,204 entities (12 embedded, 1,180 cached) in 3.2 s." */
export function reindexSummary(result: unknown): string {
  if (typeof result !== 'object' || result === null) {
    return 'Codesearch: reindex finished.';
  }
  const r = result as Record<string, unknown>;
  const n = (k: string): number => {
    const v = r[k];
    return typeof v === 'number' && Number.isFinite(v) ? v : 0;
  };
  const fmt = (v: number): string => v.toLocaleString('en-US');
  const parts = (['embedded', 'cached', 'removed', 'failed'] as const)
    .filter((k) => n(k) > 0)
    .map((k) => `${fmt(n(k))} ${k}`);
  if (n('embedded') === 0 && n('cached') === 0 && n('removed') === 0) {
    parts.unshift('nothing changed');
  }
  return (
    `Codesearch: indexed ${fmt(n('files'))} files, ${fmt(n('entities'))} entities ` +
    `(${parts.join(', ')}) in ${n('seconds').toFixed(1)} s.`
  );
}
