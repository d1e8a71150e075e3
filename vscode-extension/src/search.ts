/** "Codesearch: Search" and "Codesearch: Find Similar": QuickPicks over the server's hits. */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { debounce, hitEntries, hitToItem, LatestOnly, searchTitle, selectionFor } from './logic/hits';
import { type Hit, parseHits, ServerCommand } from './logic/protocol';
import { ServerNotRunningError, type ServerManager } from './client/lifecycle';

export const SEARCH_DEBOUNCE_MS = 250;
const SEARCH_LIMIT = 30;

type Item = vscode.QuickPickItem & { hit?: Hit };

/** The hits as rows of a list shown without typed text: weak ones marked, with the separators of `hitEntries`. */
function toItems(hits: readonly Hit[]): Item[] {
  return hitEntries(hits).map((entry): Item =>
    'separator' in entry ? { label: entry.label, kind: vscode.QuickPickItemKind.Separator } : { ...entry },
  );
}

/** Opens the hit's file, selects its range (cursor at its start) and reveals it. */
export async function openHit(hit: Hit, preview = false): Promise<void> {
  const uri = vscode.Uri.parse(hit.uri);
  const { anchor, active } = selectionFor(hit);
  const selection = new vscode.Selection(anchor.line, anchor.character, active.line, active.character);
  const editor = await vscode.window.showTextDocument(uri, { preview, preserveFocus: false });
  editor.selection = selection;
  editor.revealRange(selection, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
}

function reportFailure(manager: ServerManager, what: string, err: unknown): void {
  if (err instanceof ServerNotRunningError) {
    manager.showError(err.message, ['Restart Server']);
    return;
  }
  const message = err instanceof Error ? err.message : String(err);
  manager.showError(`Codesearch: ${what} failed: ${message}`);
}

/** Search as you type: each pause of 250 ms sends `codesearch.search`; late answers are dropped. */
export function searchQuickPick(manager: ServerManager, initial = ''): Promise<void> {
  return new Promise((resolve) => {
    const qp = vscode.window.createQuickPick<Item>();
    qp.title = searchTitle([]);
    qp.placeholder = 'Describe the code you are looking for, e.g. "retry failed uploads"';
    qp.matchOnDescription = false;
    qp.matchOnDetail = false;
    qp.ignoreFocusOut = false;
    const latest = new LatestOnly();
    let failedOnce = false;

    const run = debounce((query: string) => {
      const ticket = latest.next();
      qp.busy = true;
      manager.execute(ServerCommand.search, { query, limit: SEARCH_LIMIT }).then(
        (raw) => {
          if (!latest.isCurrent(ticket)) {
            return;
          }
          qp.busy = false;
          const hits = parseHits(raw);
          qp.title = searchTitle(hits);
          qp.items = hits.length > 0 ? hits.map((h): Item => ({ ...hitToItem(h) })) : [{ label: 'No matches', alwaysShow: true }];
        },
        (err: unknown) => {
          if (!latest.isCurrent(ticket)) {
            return;
          }
          qp.busy = false;
          qp.items = [];
          if (!failedOnce) {
            failedOnce = true;
            reportFailure(manager, 'search', err);
          }
        },
      );
    }, SEARCH_DEBOUNCE_MS);

    qp.onDidChangeValue((value) => {
      if (value.trim() === '') {
        run.cancel();
        latest.invalidate();
        qp.busy = false;
        qp.title = searchTitle([]);
        qp.items = [];
        return;
      }
      run(value.trim());
    });
    qp.onDidAccept(() => {
      const hit = qp.selectedItems[0]?.hit ?? qp.activeItems[0]?.hit;
      if (!hit) {
        return;
      }
      qp.hide();
      openHit(hit).catch((err: unknown) => reportFailure(manager, 'opening the result', err));
    });
    qp.onDidHide(() => {
      run.cancel();
      latest.invalidate();
      qp.dispose();
      resolve();
    });
    qp.show();
    if (initial) {
      qp.value = initial;
      run(initial);
    }
  });
}

/** Similar code to the entity at the cursor (`codesearch.findSimilar`), in a QuickPick. */
export async function findSimilar(manager: ServerManager): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor) {
    void vscode.window.showInformationMessage('Codesearch: place the cursor in a function or class first.');
    return;
  }
  const pos = editor.selection.active;
  const label = `${path.posix.basename(editor.document.uri.path)}:${pos.line + 1}`;
  let raw: unknown;
  try {
    raw = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Window, title: 'Codesearch: finding similar code' },
      () =>
        manager.execute(ServerCommand.findSimilar, {
          uri: editor.document.uri.toString(),
          position: { line: pos.line, character: pos.character },
          limit: SEARCH_LIMIT,
        }),
    );
  } catch (err) {
    reportFailure(manager, 'find similar', err);
    return;
  }
  const hits = parseHits(raw);
  if (hits.length === 0) {
    void vscode.window.showInformationMessage(
      'Codesearch: no similar code found (is the cursor inside an indexed function or class?).',
    );
    return;
  }
  const choice = await vscode.window.showQuickPick(toItems(hits), {
    title: `Codesearch: similar to the code at ${label}`,
    matchOnDescription: true,
    matchOnDetail: true,
    placeHolder: 'Filter the similar functions and classes',
  });
  if (choice?.hit) {
    await openHit(choice.hit);
  }
}
