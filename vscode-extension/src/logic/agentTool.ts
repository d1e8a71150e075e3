/**
 * The `#codesearch` language model tool without VS Code: its input checked against the schema
 * in package.json, the search it sends to the server, and the answer as compact text within a
 * size budget, since the text lands in a model's context window. Pure.
 */
import { ENTITY_KINDS, LANGUAGES, type SearchArgs, type StatusPayload } from './contract';
import type { Hit } from './contract';
import { oneLine } from './hits';
import { formatCount } from './status';

/** `contributes.languageModelTools[].name`: what agents call. */
export const TOOL_NAME = 'codesearch_search';
/** `#codesearch` in chat. */
export const TOOL_REFERENCE_NAME = 'codesearch';

export const TOOL_DEFAULT_LIMIT = 10;
export const TOOL_MAX_LIMIT = 50;
/** Characters of answer when the caller gives no token budget: a few screens, not a flood. */
export const DEFAULT_CHAR_BUDGET = 8000;
/** Never less than this, whatever the token budget says: room for a note and a hit or two. */
export const MIN_CHAR_BUDGET = 1000;
/** Source code runs at about 3 characters per token; erring short keeps within a token budget. */
const CHARS_PER_TOKEN = 3;
const SNIPPET_CHARS = 160;

/** The tool's input, as its schema in package.json declares it. */
export interface ToolInput {
  query: string;
  limit?: number;
  pathGlob?: string;
  language?: string;
  kind?: string;
}

export const TOOL_INPUT_KEYS: readonly (keyof ToolInput)[] = ['query', 'limit', 'pathGlob', 'language', 'kind'];

export type Checked<T> = { ok: true; value: T } | { ok: false; error: string };

/**
 * The `codesearch.search` argument for a tool input, or a message a model can act on.
 * Models send JSON that merely resembles the schema, so each field is checked here; a
 * language in another case ("Python") is accepted.
 */
export function searchArgsFromInput(raw: unknown): Checked<SearchArgs> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, error: 'the input must be an object such as {"query": "retry failed uploads"}' };
  }
  const input = raw as Record<string, unknown>;
  const unknown = Object.keys(input).filter((k) => !(TOOL_INPUT_KEYS as readonly string[]).includes(k));
  if (unknown.length > 0) {
    return { ok: false, error: `unknown input ${unknown.join(', ')}; the inputs are ${TOOL_INPUT_KEYS.join(', ')}` };
  }
  const query = input.query;
  if (typeof query !== 'string' || query.trim() === '') {
    return { ok: false, error: 'query is required: what the code does, in plain words, or an identifier' };
  }
  const args: SearchArgs = { query: query.trim(), limit: TOOL_DEFAULT_LIMIT };
  const limit = input.limit;
  if (limit !== undefined && limit !== null) {
    if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > TOOL_MAX_LIMIT) {
      return { ok: false, error: `limit must be a whole number from 1 to ${TOOL_MAX_LIMIT}` };
    }
    args.limit = limit;
  }
  const text = (key: 'pathGlob' | 'language' | 'kind'): Checked<string | undefined> => {
    const value = input[key];
    if (value === undefined || value === null) {
      return { ok: true, value: undefined };
    }
    if (typeof value !== 'string') {
      return { ok: false, error: `${key} must be a string` };
    }
    return { ok: true, value: value.trim() === '' ? undefined : value.trim() };
  };
  const pathGlob = text('pathGlob');
  if (!pathGlob.ok) {
    return pathGlob;
  }
  if (pathGlob.value !== undefined) {
    args.path = pathGlob.value;
  }
  const language = text('language');
  if (!language.ok) {
    return language;
  }
  if (language.value !== undefined) {
    const name = language.value.toLowerCase();
    if (!(LANGUAGES as readonly string[]).includes(name)) {
      return { ok: false, error: `language must be one of ${LANGUAGES.join(', ')}` };
    }
    args.language = name;
  }
  const kind = text('kind');
  if (!kind.ok) {
    return kind;
  }
  if (kind.value !== undefined) {
    const name = kind.value.toLowerCase();
    if (!(ENTITY_KINDS as readonly string[]).includes(name)) {
      return { ok: false, error: `kind must be one of ${ENTITY_KINDS.join(', ')}` };
    }
    args.kind = name as SearchArgs['kind'];
  }
  return { ok: true, value: args };
}

/** What the tool shows while it runs, e.g. `Searching the code for "retry failed uploads"`. */
export function invocationMessage(raw: unknown): string {
  const query =
    typeof raw === 'object' && raw !== null && typeof (raw as Record<string, unknown>).query === 'string'
      ? ((raw as Record<string, unknown>).query as string)
      : '';
  const shown = oneLine(query, 80);
  return shown === '' ? 'Searching the code by meaning' : `Searching the code for "${shown}"`;
}

/** Characters allowed for an answer, from the caller's token budget when it gives one. */
export function charBudget(tokenBudget?: number): number {
  if (tokenBudget === undefined || !Number.isFinite(tokenBudget) || tokenBudget <= 0) {
    return DEFAULT_CHAR_BUDGET;
  }
  return Math.max(MIN_CHAR_BUDGET, Math.min(DEFAULT_CHAR_BUDGET, Math.floor(tokenBudget * CHARS_PER_TOKEN)));
}

/**
 * What a model should know about the index before trusting an answer: it is still being
 * built, paused, in error. Undefined when it is up to date (or the status is unknown).
 * Indexing is no failure: the answer covers what is indexed so far, and says so.
 */
export function indexNote(status: StatusPayload | undefined): string | undefined {
  if (!status) {
    return undefined;
  }
  const indexed = `${formatCount(status.entities)} functions and classes in ${formatCount(status.files)} files`;
  if (status.paused && status.pending > 0) {
    return `Codesearch indexing is paused with ${formatCount(status.pending)} files waiting: these results cover the ${indexed} indexed so far.`;
  }
  switch (status.state) {
    case 'starting':
      return `Codesearch is still starting: these results cover the ${indexed} indexed so far.`;
    case 'indexing': {
      const progress =
        status.progress && status.progress.total > 0
          ? ` (${formatCount(status.progress.done)} of ${formatCount(status.progress.total)} embedded)`
          : status.pending > 0
            ? ` (${formatCount(status.pending)} files waiting)`
            : '';
      return `Codesearch is still indexing${progress}: these results cover the ${indexed} indexed so far; code not indexed yet may be missing.`;
    }
    case 'error':
      return `Codesearch reports an indexing error (${status.lastError ?? 'see its logs'}): results may be incomplete.`;
    default:
      return undefined;
  }
}

export interface RenderOptions {
  query: string;
  /** Where a hit is, as the model should read it back (workspace-relative). */
  pathOf: (hit: Hit) => string;
  note?: string;
  budget?: number;
}

/** One hit: `path:12-30 function name (score 0.81)` then its first line, indented. */
export function hitLines(hit: Hit, index: number, pathOf: (hit: Hit) => string): string {
  const start = hit.range.start.line + 1;
  const end = Math.max(start, hit.range.end.line + 1);
  const lines = end > start ? `${start}-${end}` : `${start}`;
  const kind = hit.kind ? `${hit.kind} ` : '';
  const weak = hit.weak ? ', weak match' : '';
  let text = `${index}. ${pathOf(hit)}:${lines} ${kind}${hit.name} (score ${hit.score.toFixed(2)}${weak})`;
  const snippet = oneLine(hit.snippet, SNIPPET_CHARS);
  if (snippet !== '') {
    text += `\n   ${snippet}`;
  }
  return text;
}

/**
 * The answer as text, within `budget` characters: a header, the index note, the hits best
 * first (cut where the budget ends, saying how many were left out), and a note when the
 * matches are weak.
 */
export function renderToolResult(hits: readonly Hit[], options: RenderOptions): string {
  const budget = Math.max(MIN_CHAR_BUDGET, options.budget ?? DEFAULT_CHAR_BUDGET);
  const query = oneLine(options.query, 120);
  const head: string[] = [];
  const tail: string[] = [];
  if (hits.length === 0) {
    head.push(`Codesearch found no code for "${query}".`);
  } else {
    head.push(
      `Codesearch: ${hits.length} ${hits.length === 1 ? 'match' : 'matches'} for "${query}", best first ` +
        '(path:lines kind name; lines are 1-based, paths relative to the workspace).',
    );
  }
  if (options.note) {
    head.push(options.note);
  }
  const weak = hits.filter((h) => h.weak).length;
  if (hits.length > 0 && weak === hits.length) {
    head.push(
      'No strong match: every result is only loosely related to the query, so the code described is probably not in the workspace.',
    );
  } else if (weak > 0) {
    tail.push(`${weak} of these ${weak === 1 ? 'is a weak match' : 'are weak matches'}, only loosely related to the query.`);
  }
  let text = head.join('\n');
  const closing = tail.length > 0 ? `\n\n${tail.join('\n')}` : '';
  let shown = 0;
  for (const [i, hit] of hits.entries()) {
    const block = `${i === 0 ? '\n\n' : '\n'}${hitLines(hit, i + 1, options.pathOf)}`;
    const left = hits.length - i - 1;
    // Keep room for the closing notes and the "left out" line the cut would need.
    const reserve = closing.length + (left > 0 ? 120 : 0);
    if (text.length + block.length + reserve > budget) {
      break;
    }
    text += block;
    shown += 1;
  }
  if (shown < hits.length) {
    const cut = hits.length - shown;
    text += `\n\n${cut} more ${cut === 1 ? 'match' : 'matches'} left out to keep this answer short; narrow the query, or use pathGlob, language or kind.`;
  }
  text += closing;
  return text.length > budget ? `${text.slice(0, budget - 1)}…` : text;
}
