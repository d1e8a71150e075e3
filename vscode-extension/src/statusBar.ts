import * as vscode from 'vscode';
import type { StatusView } from './logic/status';
import { ClientCommand } from './commands/ids';

/** The Codesearch status bar item; `render` applies a view computed by logic/status. */
export class StatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private last = '';

  constructor() {
    this.item = vscode.window.createStatusBarItem('codesearch.statusItem', vscode.StatusBarAlignment.Left, 50);
    this.item.name = 'Codesearch';
    this.item.command = ClientCommand.showMenu;
  }

  render(view: StatusView): void {
    const key = JSON.stringify(view);
    if (key === this.last) {
      return;
    }
    this.last = key;
    if (!view.visible) {
      this.item.hide();
      return;
    }
    this.item.text = view.text;
    this.item.tooltip = view.tooltip;
    this.item.accessibilityInformation = { label: `Codesearch: ${view.text.replace(/\$\([^)]*\)\s*/g, '')}` };
    this.item.backgroundColor =
      view.severity === 'error'
        ? new vscode.ThemeColor('statusBarItem.errorBackground')
        : view.severity === 'warning'
          ? new vscode.ThemeColor('statusBarItem.warningBackground')
          : undefined;
    this.item.show();
  }

  dispose(): void {
    this.item.dispose();
  }
}
