/**
 * The MCP server the extension offers to VS Code's MCP clients, without VS Code: which
 * command runs it and when there is none to offer. It is `codesearch mcp` on the interpreter
 * that runs the language server, over every workspace folder, pointed at the same index store
 * and model, so that it joins the index the language server keeps. Pure.
 */

/** `contributes.mcpServerDefinitionProviders[].id`. */
export const MCP_PROVIDER_ID = 'codesearch.mcpServers';
/** The server's name in VS Code's list of MCP servers. */
export const MCP_SERVER_LABEL = 'Codesearch';

/** Environment variables the Codesearch CLI reads when no flag says otherwise (config.py, locations.py). */
export const STORE_DIR_ENV = 'CODESEARCH_CACHE_DIR';
export const MODEL_ENV = 'CODESEARCH_MODEL';

export interface McpLaunchInput {
  /** `codesearch.agentTools.enable`. */
  enabled: boolean;
  /** Whether the workspace is trusted: the interpreter may come from its settings. */
  trusted: boolean;
  /** The language server's interpreter. */
  python: string;
  /** File-system paths of the workspace folders, in order. */
  folders: readonly string[];
  /** `codesearch.storeDir`, expanded; empty: the default. */
  storeDir?: string;
  /** `codesearch.model`, expanded; empty: the packaged model. */
  model?: string;
}

/** What `vscode.McpStdioServerDefinition` takes. */
export interface McpLaunch {
  label: string;
  command: string;
  args: string[];
  env: Record<string, string>;
  /** The first folder: where the server starts. */
  cwd: string;
}

/** `-m codesearch mcp --path A --path B ...` for these folders. */
export function mcpArgs(folders: readonly string[]): string[] {
  return ['-m', 'codesearch', 'mcp', ...folders.flatMap((folder) => ['--path', folder])];
}

/**
 * The launch of the MCP server, or undefined when there is nothing to offer: the setting is
 * off, the workspace is not trusted (never run an interpreter it may have chosen), there is no
 * folder (nothing to search) or no interpreter. Duplicate folders are passed once.
 */
export function mcpLaunch(input: McpLaunchInput): McpLaunch | undefined {
  const folders = [...new Set(input.folders.filter((f) => f.trim() !== ''))];
  if (!input.enabled || !input.trusted || folders.length === 0 || input.python.trim() === '') {
    return undefined;
  }
  const env: Record<string, string> = {};
  if (input.storeDir?.trim()) {
    env[STORE_DIR_ENV] = input.storeDir.trim();
  }
  if (input.model?.trim()) {
    env[MODEL_ENV] = input.model.trim();
  }
  return { label: MCP_SERVER_LABEL, command: input.python, args: mcpArgs(folders), env, cwd: folders[0] };
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
