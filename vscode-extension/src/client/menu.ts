/** The status item's menu: the entries of logic/menu.ts in a QuickPick. */
import * as vscode from 'vscode';
import { MENU_TITLE, type MenuAction, menuEntries, type MenuState } from '../logic/menu';

type Item = vscode.QuickPickItem & { command?: string; action?: MenuAction };

export async function showMenu(state: MenuState, run: (action: MenuAction) => Promise<unknown>): Promise<void> {
  const items: Item[] = menuEntries(state).map((entry) => ({
    label: entry.label,
    description: entry.description,
    kind: entry.separator ? vscode.QuickPickItemKind.Separator : vscode.QuickPickItemKind.Default,
    command: entry.command,
    action: entry.action,
  }));
  const choice = await vscode.window.showQuickPick(items, { title: MENU_TITLE, placeHolder: 'Choose an action' });
  if (choice?.command) {
    await vscode.commands.executeCommand(choice.command);
  } else if (choice?.action) {
    await run(choice.action);
  }
}
