/**
 * The MCP server the extension offers to VS Code's MCP clients, without VS Code: which
 * command runs it and when there is none to offer. It is `codesearch mcp` on the interpreter
 * that runs the language server, over every workspace folder, with the settings the language
 * server reads (same store, model, backend), so that it joins the index the language server
 * keeps. Pure.
 */
import { SERVER_SETTING_DEFAULTS, type ServerSettings } from './contract';

/** `contributes.mcpServerDefinitionProviders[].id`. */
export const MCP_PROVIDER_ID = 'codesearch.mcpServers';
/** The server's name in VS Code's list of MCP servers. */
export const MCP_SERVER_LABEL = 'Codesearch';

/** The `codesearch mcp` flag of each server setting: the MCP server indexes as the language server does. */
export const SETTING_FLAGS: Readonly<Record<Exclude<keyof ServerSettings, 'enable'>, string>> = {
  model: '--model',
  exclude: '--exclude',
  maxFileSize: '--max-file-size',
  batchSize: '--batch-size',
  storeDir: '--cache-dir',
  threads: '--threads',
  backend: '--backend',
  embedUrl: '--embed-url',
  embedModel: '--embed-model',
  embedApiKeyEnv: '--embed-api-key-env',
  embedBatchSize: '--embed-batch-size',
  embedConcurrency: '--embed-concurrency',
  sharedCache: '--shared-cache',
  sharedCachePrefix: '--shared-cache-prefix',
};

export interface McpLaunchInput {
  /** `codesearch.agentTools.enable`. */
  enabled: boolean;
  /** Whether the workspace is trusted: the interpreter may come from its settings. */
  trusted: boolean;
  /** The language server's interpreter. */
  python: string;
  /** File-system paths of the workspace folders, in order. */
  folders: readonly string[];
  /** The settings the language server reads (paths expanded), for the same store and index. */
  settings: ServerSettings;
}

/** What `vscode.McpStdioServerDefinition` takes. */
export interface McpLaunch {
  label: string;
  command: string;
  args: string[];
  /** The first folder: where the server starts. */
  cwd: string;
}

/**
 * Flags for the settings that differ from their defaults, so that the MCP server uses the
 * language server's store, model and backend and indexes the same files; with the defaults
 * the command line is the plain `codesearch mcp --path ...`.
 */
export function settingFlags(settings: ServerSettings): string[] {
  const flags: string[] = [];
  for (const [key, flag] of Object.entries(SETTING_FLAGS) as [keyof typeof SETTING_FLAGS, string][]) {
    const value: unknown = settings[key];
    const fallback: unknown = SERVER_SETTING_DEFAULTS[key];
    if (Array.isArray(value)) {
      for (const item of value) {
        if (typeof item === 'string' && item.trim() !== '') {
          flags.push(flag, item.trim());
        }
      }
    } else if (typeof value === 'string' && typeof fallback === 'string') {
      // A value of the wrong type stays out: the language server reports it and uses the default.
      if (value.trim() !== '' && value.trim() !== fallback) {
        flags.push(flag, value.trim());
      }
    } else if (typeof value === 'number' && typeof fallback === 'number' && Number.isInteger(value) && value !== fallback) {
      flags.push(flag, String(value));
    }
  }
  return flags;
}

/** `-m codesearch mcp --path A --path B ... [setting flags]` for these folders. */
export function mcpArgs(folders: readonly string[], settings: ServerSettings = SERVER_SETTING_DEFAULTS): string[] {
  return ['-m', 'codesearch', 'mcp', ...folders.flatMap((folder) => ['--path', folder]), ...settingFlags(settings)];
}

/**
 * The launch of the MCP server, or undefined when there is nothing to offer: the setting is
 * off, Codesearch is disabled (`codesearch.enable`), the workspace is not trusted (never run an
 * interpreter it may have chosen), there is no folder (nothing to search) or no interpreter.
 * Duplicate folders are passed once.
 */
export function mcpLaunch(input: McpLaunchInput): McpLaunch | undefined {
  const folders = [...new Set(input.folders.filter((f) => f.trim() !== ''))];
  const disabled = (input.settings.enable as unknown) === false;
  if (!input.enabled || !input.trusted || disabled || folders.length === 0 || input.python.trim() === '') {
    return undefined;
  }
  return { label: MCP_SERVER_LABEL, command: input.python, args: mcpArgs(folders, input.settings), cwd: folders[0] };
}

/** The agent features VS Code can take, from what its `vscode.lm` namespace holds. */
export interface AgentApis {
  tool: boolean;
  mcp: boolean;
}

/**
 * Feature detection: VS Code before 1.101 (and editors built on it) lack one or both APIs;
 * the extension then offers what exists and nothing else, without an error.
 */
export function detectAgentApis(lm: unknown, mcpStdioDefinition: unknown): AgentApis {
  const api = typeof lm === 'object' && lm !== null ? (lm as Record<string, unknown>) : {};
  return {
    tool: typeof api.registerTool === 'function',
    mcp: typeof api.registerMcpServerDefinitionProvider === 'function' && typeof mcpStdioDefinition === 'function',
  };
}
