/**
 * Status bar text and tooltip, computed from what the client knows: its own lifecycle state,
 * the last `codesearch/status` payload, and the last `$/progress` report. Pure.
 */
import type { StatusPayload } from './contract';

/** What the client side is doing, independent of the server's payload. */
export type ClientPhase =
  | { kind: 'noFolder' }
  | { kind: 'restricted' }
  | { kind: 'checking'; interpreter?: string }
  | { kind: 'starting'; interpreter?: string }
  | { kind: 'running' }
  | { kind: 'failed'; reason: string }
  | { kind: 'stopped' };

/** The latest `$/progress` report from the server, if a progress is open. */
export interface ProgressInfo {
  title?: string;
  message?: string;
  percentage?: number;
}

export type StatusSeverity = 'normal' | 'warning' | 'error';

export interface StatusView {
  visible: boolean;
  text: string;
  tooltip: string;
  severity: StatusSeverity;
  /** True when the spinner shows, that is while there is work in flight. */
  busy: boolean;
}

const NAME = 'Codesearch';

/** Formats an integer with a thousands separator ("1,204"). */
export function formatCount(value: number, locale = 'en-US'): string {
  return Math.max(0, Math.round(value)).toLocaleString(locale);
}

function plural(n: number, one: string, many: string = one + 's'): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}

/** Extracts "340/1200" from a progress message such as "Indexing 340/1200 entities". */
export function progressCounts(message: string | undefined): { done: number; total: number } | undefined {
  if (!message) {
    return undefined;
  }
  const match = /(\d[\d,]*)\s*\/\s*(\d[\d,]*)/.exec(message);
  if (!match) {
    return undefined;
  }
  const done = Number(match[1].replace(/,/g, ''));
  const total = Number(match[2].replace(/,/g, ''));
  return Number.isFinite(done) && Number.isFinite(total) ? { done, total } : undefined;
}

function summaryLines(s: StatusPayload): string[] {
  const lines = [
    `${plural(s.entities, 'entity', 'entities')} in ${plural(s.files, 'file')}`,
  ];
  if (s.pending > 0) {
    lines.push(`${plural(s.pending, 'file')} waiting to be indexed`);
  }
  if (s.failed > 0) {
    lines.push(`${formatCount(s.failed)} failed (see the Problems panel)`);
  }
  if (s.skipped > 0) {
    lines.push(`${plural(s.skipped, 'file')} skipped (too large or binary)`);
  }
  if (s.model) {
    lines.push(`Model: ${s.model}`);
  }
  if (s.sharedCache) {
    lines.push(`Shared cache: ${s.sharedCache.problem ?? s.sharedCache.url}`);
  }
  if (s.notice) {
    lines.push(`Searches rank by keywords alone: ${s.notice}`);
  }
  return lines;
}

/**
 * Builds the status bar view. `status` is the last server payload (undefined before the first
 * one), `progress` the open `$/progress` report if any.
 */
export function formatStatus(
  phase: ClientPhase,
  status?: StatusPayload,
  progress?: ProgressInfo,
): StatusView {
  const clickHint = 'Click for Codesearch actions.';
  switch (phase.kind) {
    case 'noFolder':
      return { visible: false, text: '', tooltip: '', severity: 'normal', busy: false };
    case 'restricted':
      return {
        visible: true,
        text: '$(shield) Codesearch',
        tooltip: `${NAME} is off in Restricted Mode: trust this workspace to start the language server.`,
        severity: 'warning',
        busy: false,
      };
    case 'checking':
    case 'starting':
      return {
        visible: true,
        text: '$(sync~spin) Codesearch',
        tooltip:
          phase.kind === 'checking'
            ? `Checking the Python interpreter${phase.interpreter ? ` ${phase.interpreter}` : ''}…`
            : `Starting the ${NAME} server${phase.interpreter ? ` with ${phase.interpreter}` : ''}…`,
        severity: 'normal',
        busy: true,
      };
    case 'failed':
      return {
        visible: true,
        text: '$(error) Codesearch',
        tooltip: `${NAME} is not running: ${phase.reason}\n\n${clickHint}`,
        severity: 'error',
        busy: false,
      };
    case 'stopped':
      return {
        visible: true,
        text: '$(circle-slash) Codesearch',
        tooltip: `The ${NAME} server is stopped.\n\n${clickHint}`,
        severity: 'warning',
        busy: false,
      };
    case 'running':
      return formatServerStatus(status, progress, clickHint);
  }
}

function formatServerStatus(
  status: StatusPayload | undefined,
  progress: ProgressInfo | undefined,
  clickHint: string,
): StatusView {
  if (!status) {
    if (progress) {
      return indexingView(undefined, progress, clickHint);
    }
    return {
      visible: true,
      text: '$(sync~spin) Codesearch',
      tooltip: `The ${NAME} server is starting…`,
      severity: 'normal',
      busy: true,
    };
  }
  if (status.paused && (status.state === 'idle' || status.state === 'indexing')) {
    const waiting = status.pending > 0 ? `${plural(status.pending, 'file')} waiting. ` : '';
    return {
      visible: true,
      text: '$(debug-pause) Paused',
      tooltip: [
        `${NAME}: indexing is paused. ${waiting}Resume it from the menu or the command palette.`,
        ...summaryLines(status),
        '',
        clickHint,
      ].join('\n'),
      severity: 'normal',
      busy: false,
    };
  }
  switch (status.state) {
    case 'starting':
      return {
        visible: true,
        text: '$(sync~spin) Codesearch',
        tooltip: `The ${NAME} server is loading its index and model…\n\n${clickHint}`,
        severity: 'normal',
        busy: true,
      };
    case 'indexing':
      return indexingView(status, progress, clickHint);
    case 'idle':
      // Failed files are listed in the tooltip and the Problems panel; the item stays calm.
      return {
        visible: true,
        text: `$(search) ${formatCount(status.entities)}`,
        tooltip: [`${NAME}: index up to date`, ...summaryLines(status), '', clickHint].join('\n'),
        severity: 'normal',
        busy: false,
      };
    case 'error':
      return {
        visible: true,
        text: '$(error) Codesearch',
        tooltip: [
          `${NAME} error: ${status.lastError ?? 'unknown error (see the logs)'}`,
          ...summaryLines(status),
          '',
          clickHint,
        ].join('\n'),
        severity: 'error',
        busy: false,
      };
    case 'disabled':
      return {
        visible: true,
        text: '$(circle-slash) Codesearch',
        tooltip: `${NAME} is disabled (setting codesearch.enable).\n\n${clickHint}`,
        severity: 'normal',
        busy: false,
      };
  }
}

function indexingView(
  status: StatusPayload | undefined,
  progress: ProgressInfo | undefined,
  clickHint: string,
): StatusView {
  // Prefer the payload's entity counts; fall back to the counts in the $/progress message.
  const counts = status?.progress ?? progressCounts(progress?.message);
  let text = '$(sync~spin) Indexing';
  if (counts && counts.total > 0) {
    text += ` ${counts.done}/${counts.total}`;
  } else if (progress?.percentage !== undefined) {
    text += ` ${Math.round(progress.percentage)}%`;
  } else if (status && status.pending > 0) {
    text += ` (${plural(status.pending, 'file')})`;
  }
  const lines = [`${NAME}: indexing`];
  if (progress?.message) {
    lines.push(progress.message);
  }
  if (status) {
    lines.push(...summaryLines(status));
  }
  lines.push('', clickHint);
  return { visible: true, text, tooltip: lines.join('\n'), severity: 'normal', busy: true };
}

/** Why a command that needs the server cannot run now, in the user's words. */
export function notRunningReason(phase: ClientPhase): string {
  switch (phase.kind) {
    case 'restricted':
      return 'Codesearch does not run in Restricted Mode: trust this workspace first.';
    case 'noFolder':
      return 'Codesearch needs an open folder.';
    case 'failed':
      return `The Codesearch server is not running: ${phase.reason}.`;
    default:
      return 'The Codesearch server is not running.';
  }
}
