import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { StatusPayload } from '../../src/logic/protocol';
import { formatCount, formatStatus, notRunningReason, progressCounts } from '../../src/logic/status';

function payload(over: Partial<StatusPayload> = {}): StatusPayload {
  return {
    state: 'idle',
    entities: 1204,
    files: 97,
    pending: 0,
    failed: 0,
    skipped: 0,
    model: 'all-MiniLM-L6-v2',
    lastError: null,
    progress: null,
    embeddedTotal: 0,
    paused: false,
    sharedCache: null,
    notice: null,
    ...over,
  };
}

const running = { kind: 'running' } as const;

describe('formatCount', () => {
  test('uses a thousands separator', () => {
    assert.equal(formatCount(1204), '1,204');
    assert.equal(formatCount(1234567), '1,234,567');
    assert.equal(formatCount(0), '0');
  });
  test('never shows negatives or fractions', () => {
    assert.equal(formatCount(-3), '0');
    assert.equal(formatCount(2.6), '3');
  });
});

describe('formatStatus from the server payload', () => {
  test('idle shows the entity count', () => {
    const view = formatStatus(running, payload());
    assert.equal(view.text, '$(search) 1,204');
    assert.equal(view.severity, 'normal');
    assert.equal(view.busy, false);
    assert.match(view.tooltip, /1,204 entities in 97 files/);
    assert.match(view.tooltip, /Model: all-MiniLM-L6-v2/);
  });

  test('idle with failures stays calm but says so in the tooltip', () => {
    const view = formatStatus(running, payload({ failed: 2, skipped: 1 }));
    assert.equal(view.severity, 'normal');
    assert.match(view.tooltip, /2 failed \(see the Problems panel\)/);
    assert.match(view.tooltip, /1 file skipped/);
  });

  test('indexing shows a spinner and entity progress', () => {
    const view = formatStatus(running, payload({ state: 'indexing', progress: { done: 340, total: 1200 }, pending: 3 }));
    assert.equal(view.text, '$(sync~spin) Indexing 340/1200');
    assert.equal(view.busy, true);
    assert.match(view.tooltip, /3 files waiting/);
  });

  test('indexing without counts falls back to $/progress, then percentage, then pending files', () => {
    const fromMessage = formatStatus(running, payload({ state: 'indexing' }), { message: 'Indexing 12/40 entities' });
    assert.equal(fromMessage.text, '$(sync~spin) Indexing 12/40');
    const fromPercent = formatStatus(running, payload({ state: 'indexing' }), { percentage: 41.6 });
    assert.equal(fromPercent.text, '$(sync~spin) Indexing 42%');
    const fromPending = formatStatus(running, payload({ state: 'indexing', pending: 1 }));
    assert.equal(fromPending.text, '$(sync~spin) Indexing (1 file)');
    const bare = formatStatus(running, payload({ state: 'indexing' }));
    assert.equal(bare.text, '$(sync~spin) Indexing');
  });

  test('$/progress alone (before any status) shows indexing', () => {
    const view = formatStatus(running, undefined, { title: 'Codesearch', message: 'Indexing 1,000/2,000 entities' });
    assert.equal(view.text, '$(sync~spin) Indexing 1000/2000');
  });

  test('error uses the error colour and puts the reason in the tooltip', () => {
    const view = formatStatus(running, payload({ state: 'error', lastError: 'model not found: foo' }));
    assert.equal(view.severity, 'error');
    assert.equal(view.text, '$(error) Codesearch');
    assert.match(view.tooltip, /model not found: foo/);
  });

  test('the tooltip names the shared cache and why searches rank by keywords alone', () => {
    const view = formatStatus(
      running,
      payload({
        sharedCache: { url: 'redis://***@cache:6379/0', problem: null },
        notice: 'query embedding unavailable: timed out',
      }),
    );
    assert.match(view.tooltip, /Shared cache: redis:\/\/\*\*\*@cache:6379\/0/);
    assert.match(view.tooltip, /keywords alone: query embedding unavailable: timed out/);
    const down = formatStatus(
      running,
      payload({ sharedCache: { url: 'redis://cache', problem: 'shared vector cache unavailable' } }),
    );
    assert.match(down.tooltip, /Shared cache: shared vector cache unavailable/);
    assert.doesNotMatch(formatStatus(running, payload()).tooltip, /Shared cache|keywords alone/);
  });

  test('error without a reason still says where to look', () => {
    const view = formatStatus(running, payload({ state: 'error' }));
    assert.match(view.tooltip, /see the logs/);
  });

  test('disabled and starting', () => {
    assert.equal(formatStatus(running, payload({ state: 'disabled' })).text, '$(circle-slash) Codesearch');
    assert.match(formatStatus(running, payload({ state: 'disabled' })).tooltip, /codesearch\.enable/);
    const starting = formatStatus(running, payload({ state: 'starting' }));
    assert.equal(starting.busy, true);
    assert.equal(formatStatus(running, undefined).text, '$(sync~spin) Codesearch');
  });
});

describe('formatStatus from the client phase', () => {
  test('no folder hides the item', () => {
    assert.equal(formatStatus({ kind: 'noFolder' }).visible, false);
  });
  test('a client-side failure is an error with its reason', () => {
    const view = formatStatus({ kind: 'failed', reason: 'Python 3.8.10 is too old (needs 3.10+)' }, payload());
    assert.equal(view.severity, 'error');
    assert.match(view.tooltip, /Python 3\.8\.10 is too old/);
  });
  test('restricted mode and checking', () => {
    assert.match(formatStatus({ kind: 'restricted' }).tooltip, /trust this workspace/);
    assert.match(formatStatus({ kind: 'checking', interpreter: '/usr/bin/python3' }).tooltip, /\/usr\/bin\/python3/);
    assert.match(formatStatus({ kind: 'starting', interpreter: 'python3' }).tooltip, /Starting/);
    assert.equal(formatStatus({ kind: 'stopped' }).severity, 'warning');
  });
});

describe('progressCounts', () => {
  test('reads done/total from a message', () => {
    assert.deepEqual(progressCounts('Indexing 340/1200 entities'), { done: 340, total: 1200 });
    assert.deepEqual(progressCounts('Indexing 1,340 / 12,000 entities'), { done: 1340, total: 12000 });
    assert.equal(progressCounts('Loading model'), undefined);
    assert.equal(progressCounts(undefined), undefined);
  });
});

describe('a paused server', () => {
  test('shows Paused and how many files wait, not the idle count', () => {
    const view = formatStatus(running, payload({ paused: true, pending: 3 }));
    assert.equal(view.text, '$(debug-pause) Paused');
    assert.equal(view.busy, false);
    assert.match(view.tooltip, /indexing is paused\. 3 files waiting/);
    assert.match(view.tooltip, /Resume/);
  });
  test('an error still shows as an error while paused', () => {
    const view = formatStatus(running, payload({ paused: true, state: 'error', lastError: 'boom' }));
    assert.equal(view.severity, 'error');
  });
  test('resumed: back to the count', () => {
    assert.equal(formatStatus(running, payload({ paused: false })).text, '$(search) 1,204');
  });
});

describe('notRunningReason', () => {
  test('says what to do in each phase', () => {
    assert.match(notRunningReason({ kind: 'restricted' }), /trust this workspace/);
    assert.match(notRunningReason({ kind: 'noFolder' }), /open folder/);
    assert.match(notRunningReason({ kind: 'failed', reason: 'Python 3.8 is too old' }), /not running: Python 3\.8 is too old\.$/);
    assert.equal(notRunningReason({ kind: 'stopped' }), 'The Codesearch server is not running.');
  });
});
