/**
 * The client/server contract, generated from server/codesearch/contract.py and
 * config.py by `make contract` (python -m codesearch.contract_files).
 * Do not edit: tests/unit/test_contract.py fails when this file is stale.
 * Pure: no `vscode` import.
 */

export const CONFIG_SECTION = 'codesearch';

/** The server's custom status notification. */
export const STATUS_NOTIFICATION = 'codesearch/status';

/** States of the server's status. */
export const SERVER_STATES = ['starting', 'indexing', 'idle', 'error', 'disabled'] as const;
export type ServerState = (typeof SERVER_STATES)[number];

/** Kinds of entity the server indexes. */
export const ENTITY_KINDS = ['function', 'method', 'class'] as const;
export type EntityKind = (typeof ENTITY_KINDS)[number];

/** LSP SymbolKind name of each entity kind; other kinds show as DEFAULT_SYMBOL_KIND. */
export const SYMBOL_KINDS: Readonly<Record<string, string>> = {
  function: 'Function',
  method: 'Method',
  class: 'Class',
  type: 'Struct',
  macro: 'Function',
  module: 'Module',
};
export const DEFAULT_SYMBOL_KIND = 'Function';

/** Commands the server answers through `workspace/executeCommand`. */
export const ServerCommand = {
  /** search every workspace folder by meaning and by name, best first */
  search: 'codesearch.search',
  /** code like the entity at a position (that entity itself excluded) */
  findSimilar: 'codesearch.findSimilar',
  /** bring every folder up to date (force: re-embed everything) */
  reindex: 'codesearch.reindex',
  /** the status payload, now */
  status: 'codesearch.status',
  /** delete the index and build it again from scratch */
  clearIndex: 'codesearch.clearIndex',
  /** stop embedding after the batch in flight; saves queue up (what was embedded is kept) */
  pause: 'codesearch.pause',
  /** go on where a pause stopped: an incremental pass over every folder */
  resume: 'codesearch.resume',
} as const;

export const DEFAULT_LIMIT = 20;
export const MAX_LIMIT = 500;

/** A position in a file. */
export interface Position {
  /** 0-based */
  line: number;
  /** 0-based */
  character: number;
}

/** A range in a file, 0-based. */
export interface Range {
  start: Position;
  end: Position;
}

/** The `codesearch/status` payload. */
export interface StatusPayload {
  /** what the server is doing */
  state: ServerState;
  /** entities in the search index, all folders */
  entities: number;
  /** files indexed */
  files: number;
  /** files waiting to be (re)indexed */
  pending: number;
  /** files or entities that failed (see diagnostics) */
  failed: number;
  /** files skipped: too large, binary */
  skipped: number;
  /** the model, as shown to the user */
  model: string;
  /** the last error, while in the error state */
  lastError: string | null;
  /** entities embedded of those planned, while indexing */
  progress: { done: number; total: number } | null;
  /** entities sent to the model since the server started */
  embeddedTotal: number;
  /** indexing waits for codesearch.resume; saves queue up */
  paused: boolean;
  /** the team's shared vector cache (its URL without credentials, and why it does not answer, if it does not); null when none is set */
  sharedCache: { url: string; problem: string | null } | null;
  /** why searches rank by keywords alone right now (the embedding endpoint does not answer in time); null when they do not */
  notice: string | null;
}

/** One search result. */
export interface Hit {
  /** file URI of the entity */
  uri: string;
  /** the entity's range, 0-based */
  range: Range;
  /** qualified name, e.g. Cache.get */
  name: string;
  /** an entity kind (see ENTITY_KINDS) */
  kind: string;
  /** the file's language */
  language: string;
  /** relative to its workspace folder */
  path: string;
  /** higher is better; comparable within one answer */
  score: number;
  /** the entity's first line (its signature) */
  snippet: string;
  /** the query's words found in the entity's identifiers */
  matched: string[];
  /** scored below the calibrated threshold: no strong match */
  weak: boolean;
}

/** The argument of `codesearch.search`. */
export interface SearchArgs {
  /** what to look for: words, a question, or an identifier */
  query: string;
  /** hits to return, 1 to 500 (default 20) */
  limit?: number;
  /** only this language */
  language?: string;
  /** only this kind of entity */
  kind?: EntityKind;
  /** only paths matching this glob */
  path?: string;
}

/** The argument of `codesearch.findSimilar`. */
export interface FindSimilarArgs {
  /** a file:// URI inside a workspace folder */
  uri: string;
  /** a position inside the entity */
  position: Position;
  /** hits to return, 1 to 500 (default 20) */
  limit?: number;
}

/** The argument of `codesearch.reindex`. */
export interface ReindexArgs {
  /** re-read and re-embed every file */
  force?: boolean;
}

/** The result of `codesearch.reindex`. */
export interface ReindexResult {
  /** files in the index afterwards */
  files: number;
  /** entities in the index afterwards */
  entities: number;
  /** entities sent to the model */
  embedded: number;
  /** entities whose vectors were already stored */
  cached: number;
  /** entities whose vectors came from the shared vector cache */
  shared: number;
  /** entities and files that failed */
  failed: number;
  /** files dropped from the index */
  removed: number;
  /** time taken */
  seconds: number;
}

/** The settings the server reads (initializationOptions, workspace/configuration). */
export interface ServerSettings {
  enable: boolean;
  model: string;
  exclude: string[];
  maxFileSize: number;
  batchSize: number;
  storeDir: string;
  threads: number;
  backend: string;
  embedUrl: string;
  embedModel: string;
  embedApiKeyEnv: string;
  embedBatchSize: number;
  embedConcurrency: number;
  sharedCache: string;
  sharedCachePrefix: string;
}

export const SERVER_SETTING_DEFAULTS: Readonly<ServerSettings> = Object.freeze({
  enable: true,
  model: '',
  exclude: [],
  maxFileSize: 1048576,
  batchSize: 32,
  storeDir: '',
  threads: 0,
  backend: 'onnx-int8',
  embedUrl: '',
  embedModel: '',
  embedApiKeyEnv: '',
  embedBatchSize: 64,
  embedConcurrency: 4,
  sharedCache: '',
  sharedCachePrefix: '',
});

/** Keys the server reads. */
export const SERVER_SETTING_KEYS = ['enable', 'model', 'exclude', 'maxFileSize', 'batchSize', 'storeDir', 'threads', 'backend', 'embedUrl', 'embedModel', 'embedApiKeyEnv', 'embedBatchSize', 'embedConcurrency', 'sharedCache', 'sharedCachePrefix'] as const;
/** Keys the extension reads itself; the server never sees them. */
export const CLIENT_SETTING_KEYS = ['server.pythonPath', 'logLevel', 'agentTools.enable'] as const;
/** Client keys that shape the server's command line: a change restarts it. */
export const RESTART_SETTING_KEYS = ['server.pythonPath', 'logLevel'] as const;
/** Values of `codesearch.logLevel`. */
export const LOG_LEVELS = ['error', 'warning', 'info', 'debug'] as const;
/** Values of `codesearch.backend`. */
export const BACKENDS = ['onnx-int8', 'torch'] as const;

/** Indexed file extensions. */
export const INDEXED_EXTENSIONS = ['c', 'cc', 'cjs', 'cpp', 'cs', 'cts', 'cxx', 'go', 'h', 'hh', 'hpp', 'hxx', 'java', 'js', 'jsx', 'mjs', 'mts', 'php', 'py', 'pyi', 'rb', 'rs', 'ts', 'tsx'] as const;
/** Values of a search's `language` filter. */
export const LANGUAGES = ['c', 'cpp', 'csharp', 'go', 'java', 'javascript', 'php', 'python', 'ruby', 'rust', 'tsx', 'typescript'] as const;
export const SOURCE_GLOB = '**/*.{c,cc,cjs,cpp,cs,cts,cxx,go,h,hh,hpp,hxx,java,js,jsx,mjs,mts,php,py,pyi,rb,rs,ts,tsx}';
export const IGNORE_FILES_GLOB = '**/{.gitignore,.codesearchignore}';
