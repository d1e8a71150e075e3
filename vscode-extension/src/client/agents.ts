/**
 * Codesearch for AI agents in VS Code: the `#codesearch` language model tool, answered by the
 * running language server, and the MCP server definition (`codesearch mcp` on the server's
 * interpreter) for agents that speak only MCP. Each is offered when this VS Code has its API
 * and `codesearch.agentTools.enable` is on.
 */
import * as vscode from 'vscode';
import {
  charBudget,
  indexNote,
  invocationMessage,
  renderToolResult,
  searchArgsFromInput,
  TOOL_NAME,
  type ToolInput,
} from '../logic/agentTool';
import { CONFIG_SECTION, SERVER_SETTING_KEYS } from '../logic/contract';
import type { Hit } from '../logic/contract';
import { detectAgentApis, MCP_PROVIDER_ID, mcpLaunch } from '../logic/mcp';
import { parseHits, parseStatus, ServerCommand } from '../logic/protocol';
import { AGENT_TOOLS_SETTING, agentToolsEnabled, settingsFor } from './configuration';
import { ServerNotRunningError, type ServerManager } from './lifecycle';

/** Settings whose change alters the MCP server definition: the switch and what the server reads. */
const MCP_SETTINGS = [AGENT_TOOLS_SETTING, ...SERVER_SETTING_KEYS].map((key) => `${CONFIG_SECTION}.${key}`);

/** Registers what this VS Code supports; returns what to dispose on deactivation. */
export function registerAgentFeatures(manager: ServerManager): vscode.Disposable {
  const apis = detectAgentApis(
    (vscode as { lm?: unknown }).lm,
    (vscode as { McpStdioServerDefinition?: unknown }).McpStdioServerDefinition,
  );
  const disposables: { dispose(): void }[] = [];
  const log = (line: string): void => manager.output.appendLine(`[client] ${line}`);
  if (apis.tool) {
    disposables.push(new SearchToolRegistration(manager));
  } else {
    log('this VS Code has no language model tool API (1.101 or newer has it): #codesearch is not offered');
  }
  if (apis.mcp) {
    const provider = new McpProvider(manager);
    disposables.push(provider, vscode.lm.registerMcpServerDefinitionProvider(MCP_PROVIDER_ID, provider));
  } else {
    log('this VS Code has no MCP server definition API (1.101 or newer has it): the MCP server is not offered');
  }
  return vscode.Disposable.from(...disposables);
}

/** The tool is registered while `codesearch.agentTools.enable` is on, and only then. */
class SearchToolRegistration implements vscode.Disposable {
  private registration: vscode.Disposable | undefined;
  private readonly watcher: vscode.Disposable;

  constructor(private readonly manager: ServerManager) {
    this.update();
    this.watcher = vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(`${CONFIG_SECTION}.${AGENT_TOOLS_SETTING}`)) {
        this.update();
      }
    });
  }

  private update(): void {
    const enabled = agentToolsEnabled();
    if (enabled && !this.registration) {
      this.registration = vscode.lm.registerTool<ToolInput>(TOOL_NAME, new SearchTool(this.manager));
    } else if (!enabled && this.registration) {
      this.registration.dispose();
      this.registration = undefined;
    }
  }

  dispose(): void {
    this.watcher.dispose();
    this.registration?.dispose();
    this.registration = undefined;
  }
}

/** `codesearch_search`: a `codesearch.search` request to the running server, as compact text. */
class SearchTool implements vscode.LanguageModelTool<ToolInput> {
  constructor(private readonly manager: ServerManager) {}

  prepareInvocation(
    options: vscode.LanguageModelToolInvocationPrepareOptions<ToolInput>,
  ): vscode.PreparedToolInvocation {
    return { invocationMessage: invocationMessage(options.input) };
  }

  async invoke(
    options: vscode.LanguageModelToolInvocationOptions<ToolInput>,
    token: vscode.CancellationToken,
  ): Promise<vscode.LanguageModelToolResult> {
    const checked = searchArgsFromInput(options.input);
    if (!checked.ok) {
      throw new Error(`Invalid input for ${TOOL_NAME}: ${checked.error}.`);
    }
    const args = checked.value;
    let raw: unknown;
    let status: ReturnType<typeof parseStatus>;
    try {
      [raw, status] = await Promise.all([
        this.manager.execute(ServerCommand.search, args, token),
        this.manager.execute(ServerCommand.status, undefined, token).then(parseStatus, () => undefined),
      ]);
    } catch (err) {
      if (token.isCancellationRequested) {
        throw new vscode.CancellationError();
      }
      if (err instanceof ServerNotRunningError) {
        throw new Error(`${err.message} Codesearch cannot search the workspace until it runs.`);
      }
      throw new Error(`Codesearch search failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (status?.state === 'disabled') {
      throw new Error(
        'Codesearch is turned off for this workspace (setting codesearch.enable), so there is no index to search.',
      );
    }
    const multiRoot = (vscode.workspace.workspaceFolders?.length ?? 0) > 1;
    const pathOf = (hit: Hit): string =>
      vscode.workspace.asRelativePath(vscode.Uri.parse(hit.uri), multiRoot) || hit.path;
    const text = renderToolResult(parseHits(raw), {
      query: args.query,
      pathOf,
      note: indexNote(status),
      budget: charBudget(options.tokenizationOptions?.tokenBudget),
    });
    return new vscode.LanguageModelToolResult([new vscode.LanguageModelTextPart(text)]);
  }
}

/**
 * `codesearch mcp --path <each folder>` on the interpreter that passed the language server's
 * check, with the settings the language server reads; nothing while the setting is off, the
 * workspace is untrusted or no interpreter can run the server. Tells VS Code when any of that
 * changes.
 */
class McpProvider implements vscode.McpServerDefinitionProvider<vscode.McpStdioServerDefinition>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeMcpServerDefinitions = this.changed.event;
  private readonly subscriptions: vscode.Disposable[];

  constructor(private readonly manager: ServerManager) {
    const fire = (): void => this.changed.fire();
    this.subscriptions = [
      vscode.workspace.onDidChangeWorkspaceFolders(fire),
      vscode.workspace.onDidGrantWorkspaceTrust(fire),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (MCP_SETTINGS.some((section) => e.affectsConfiguration(section))) {
          fire();
        }
      }),
      manager.onDidChangeVerifiedInterpreter(fire),
    ];
  }

  provideMcpServerDefinitions(): vscode.McpStdioServerDefinition[] {
    const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file');
    const launch = mcpLaunch({
      enabled: agentToolsEnabled(),
      trusted: vscode.workspace.isTrusted,
      python: this.manager.verifiedInterpreter()?.path ?? '',
      folders: folders.map((f) => f.uri.fsPath),
      settings: settingsFor(),
    });
    if (!launch) {
      return [];
    }
    const definition = new vscode.McpStdioServerDefinition(launch.label, launch.command, launch.args);
    definition.cwd = vscode.Uri.file(launch.cwd);
    return [definition];
  }

  dispose(): void {
    for (const s of this.subscriptions) {
      s.dispose();
    }
    this.changed.dispose();
  }
}
