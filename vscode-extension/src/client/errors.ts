/** Error messages with actions; "Show Logs" is always one of them. */
import * as vscode from 'vscode';

export type ErrorAction = 'Show Logs' | 'Install Server' | 'Select Interpreter' | 'Restart Server' | 'Trust Workspace';

export function showError(
  output: vscode.OutputChannel,
  message: string,
  actions: readonly string[],
  run: (action: ErrorAction) => void,
): void {
  const offered = [...new Set([...actions, 'Show Logs'])];
  output.appendLine(`[client] error: ${message}`);
  void vscode.window.showErrorMessage(message, ...offered).then((choice) => {
    if (choice !== undefined) {
      run(choice as ErrorAction);
    }
  });
}
