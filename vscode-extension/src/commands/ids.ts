/**
 * Ids of the commands this extension contributes. They live under `codesearch.client.` because
 * vscode-languageclient registers the server's own commands (`codesearch.search`, ...) as VS Code
 * commands itself, and two registrations of one id fail.
 */
export const ClientCommand = {
  search: 'codesearch.client.search',
  findSimilar: 'codesearch.client.findSimilar',
  reindex: 'codesearch.client.reindex',
  forceReindex: 'codesearch.client.forceReindex',
  clearIndex: 'codesearch.client.clearIndex',
  pauseIndexing: 'codesearch.client.pauseIndexing',
  resumeIndexing: 'codesearch.client.resumeIndexing',
  showLogs: 'codesearch.client.showLogs',
  restartServer: 'codesearch.client.restartServer',
  selectInterpreter: 'codesearch.client.selectInterpreter',
  installServer: 'codesearch.client.installServer',
  showMenu: 'codesearch.client.showMenu',
} as const;
