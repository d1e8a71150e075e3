/**
 * The vscode-languageclient instance for one server process: how the server is started, which
 * documents it hears about (saves of indexed files and ignore files, nothing else), how
 * `workspace/configuration` is answered, and where its status and progress go.
 */
import type * as vscode from 'vscode';
import {
  type CloseAction,
  ErrorAction,
  LanguageClient,
  type LanguageClientOptions,
  RevealOutputChannelOn,
  type ServerOptions,
  State,
} from 'vscode-languageclient/node';
import { CONFIG_SECTION, IGNORE_FILES_GLOB, type ServerSettings, SOURCE_GLOB } from '../logic/contract';
import { parseStatus, STATUS_NOTIFICATION, type StatusPayload } from '../logic/protocol';
import { serverArgs } from '../logic/settings';
import { StatusProgressFeature } from '../progress';
import { pythonEnv } from '../python';

/**
 * The documents the client tells the server about. The server asks only for saves (without
 * text); matching only what it indexes keeps other files' saves off the wire too.
 */
export const DOCUMENT_SELECTOR = [
  { scheme: 'file', pattern: SOURCE_GLOB },
  { scheme: 'file', pattern: IGNORE_FILES_GLOB },
];

export interface ClientHooks {
  python: string;
  logLevel: string;
  extensionPath: string;
  output: vscode.OutputChannel;
  /** The settings the server reads, for a folder (`scopeUri`) or the window. */
  settingsFor(scopeUri?: string): ServerSettings;
  onStatus(status: StatusPayload): void;
  /** The open `$/progress` changed. */
  onProgress(): void;
  /** The client stopped (its server exited). */
  onStopped(): void;
  /** The server exited on its own: restart it or not. */
  onClosed(): { action: CloseAction; handled: boolean };
}

export interface StartedClient {
  client: LanguageClient;
  progress: StatusProgressFeature;
}

export function createLanguageClient(hooks: ClientHooks): StartedClient {
  const serverOptions: ServerOptions = {
    command: hooks.python,
    args: serverArgs(hooks.logLevel),
    // No `transport`: TransportKind.stdio would append `--stdio`, which `codesearch serve`
    // does not take; an Executable without one talks over stdin/stdout all the same.
    // Not a workspace folder: `python -m` imports from the cwd on Pythons before 3.11.
    options: { cwd: hooks.extensionPath, env: pythonEnv() },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: DOCUMENT_SELECTOR,
    outputChannel: hooks.output,
    traceOutputChannel: hooks.output,
    revealOutputChannelOn: RevealOutputChannelOn.Never,
    diagnosticCollectionName: CONFIG_SECTION,
    initializationOptions: hooks.settingsFor(),
    errorHandler: {
      error: (_error, _message, count) => ({
        action: (count ?? 0) <= 3 ? ErrorAction.Continue : ErrorAction.Shutdown,
        handled: true,
      }),
      closed: () => hooks.onClosed(),
    },
    middleware: {
      workspace: {
        // Answer `workspace/configuration` for section `codesearch` with the translated
        // settings (protocol keys only, paths expanded); other sections as VS Code has them.
        configuration: async (params, token, next) => {
          const result = await next(params, token);
          if (!Array.isArray(result)) {
            return result;
          }
          return params.items.map((item, i) =>
            item.section === CONFIG_SECTION ? hooks.settingsFor(item.scopeUri) : (result[i] as unknown),
          );
        },
      },
    },
  };
  const client = new LanguageClient(CONFIG_SECTION, 'Codesearch', serverOptions, clientOptions);
  const progress = new StatusProgressFeature(client, () => hooks.onProgress());
  client.registerFeature(progress);
  client.onNotification(STATUS_NOTIFICATION, (raw: unknown) => {
    const parsed = parseStatus(raw);
    if (parsed) {
      hooks.onStatus(parsed);
    } else {
      hooks.output.appendLine(`[client] ignored a malformed ${STATUS_NOTIFICATION}: ${JSON.stringify(raw)}`);
    }
  });
  client.onDidChangeState((e) => {
    if (e.newState === State.Stopped) {
      hooks.onStopped();
    }
  });
  return { client, progress };
}
