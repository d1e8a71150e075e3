import assert from 'node:assert/strict';
import { describe, mock, test } from 'node:test';
import {
  debounce,
  hitEntries,
  hitToItem,
  LatestOnly,
  NO_STRONG_MATCH,
  oneLine,
  reindexSummary,
  searchTitle,
  selectionFor,
  WEAK_MATCHES,
} from '../../src/logic/hits';
import { type Hit, parseHits, parseStatus } from '../../src/logic/protocol';

const hit: Hit = {
  uri: 'file:///ws/pkg/cache.py',
  range: { start: { line: 9, character: 4 }, end: { line: 20, character: 0 } },
  name: 'Cache.get',
  kind: 'method',
  language: 'python',
  path: 'pkg/cache.py',
  score: 0.0312,
  snippet: 'def get(self, key: str) -> bytes | None:',
  matched: ['cache', 'get'],
  weak: false,
};

describe('hitToItem', () => {
  test('label, description and detail', () => {
    const item = hitToItem(hit);
    assert.equal(item.label, '$(symbol-method) Cache.get');
    assert.equal(item.description, 'method  pkg/cache.py:10');
    assert.equal(item.detail, 'def get(self, key: str) -> bytes | None:');
    assert.equal(item.hit, hit);
  });
  test('always shown, since semantic hits rarely contain the typed words', () => {
    assert.equal(hitToItem(hit).alwaysShow, true);
  });
  test('icons per kind, and a fallback path from the uri', () => {
    assert.match(hitToItem({ ...hit, kind: 'class' }).label, /^\$\(symbol-class\)/);
    assert.match(hitToItem({ ...hit, kind: 'function' }).label, /^\$\(symbol-function\)/);
    // the kinds other engineers add show as their LSP symbol kind; unknown ones as a function
    assert.match(hitToItem({ ...hit, kind: 'type' }).label, /^\$\(symbol-struct\)/);
    assert.match(hitToItem({ ...hit, kind: 'module' }).label, /^\$\(symbol-module\)/);
    assert.match(hitToItem({ ...hit, kind: 'no-such-kind' }).label, /^\$\(symbol-function\)/);
    assert.equal(hitToItem({ ...hit, path: '', uri: 'file:///ws/my%20file.py' }).description, 'method  my file.py:10');
  });
  test('snippets become one bounded line', () => {
    assert.equal(oneLine('def f(\n    a,\n    b):'), 'def f( a, b):');
    const long = oneLine('x'.repeat(500));
    assert.equal(long.length, 160);
    assert.ok(long.endsWith('…'));
  });
  test('opening puts the cursor at the start and selects the range', () => {
    assert.deepEqual(selectionFor(hit), { anchor: hit.range.end, active: hit.range.start });
  });
});

describe('weak matches in the list', () => {
  const named = (name: string, weak?: boolean) => ({ ...hit, name, ...(weak === undefined ? {} : { weak }) });
  const labels = (entries: ReturnType<typeof hitEntries>) =>
    entries.map((e) => ('separator' in e ? `-- ${e.label}` : e.label.replace(/^\$\([^)]*\) /, '')));

  test('a weak hit says so in its description; a strong one does not', () => {
    assert.equal(hitToItem(named('a', true)).description, 'method  pkg/cache.py:10  · weak match');
    assert.equal(hitToItem(named('a', false)).description, 'method  pkg/cache.py:10');
    assert.equal(hitToItem(named('a')).description, 'method  pkg/cache.py:10');
  });
  test('when every hit is weak, "No strong match" heads the list', () => {
    assert.deepEqual(labels(hitEntries([named('a', true), named('b', true)])), [`-- ${NO_STRONG_MATCH}`, 'a', 'b']);
  });
  test('strong hits first, then a "Weak matches" line before the weak ones', () => {
    assert.deepEqual(labels(hitEntries([named('a', false), named('b', true), named('c', true)])), [
      'a',
      `-- ${WEAK_MATCHES}`,
      'b',
      'c',
    ]);
  });
  test('no separator when nothing is weak, when the server sends no flag, or when weak and strong interleave', () => {
    assert.deepEqual(labels(hitEntries([named('a', false), named('b', false)])), ['a', 'b']);
    assert.deepEqual(labels(hitEntries([named('a'), named('b')])), ['a', 'b']);
    assert.deepEqual(labels(hitEntries([named('a', true), named('b', false)])), ['a', 'b']);
    assert.deepEqual(hitEntries([]), []);
  });
  test('the search box title says "No strong match" when every hit is weak, and only then', () => {
    assert.equal(searchTitle([named('a', true), named('b', true)]), 'Codesearch: No strong match, every result is a weak match');
    assert.equal(searchTitle([named('a', false), named('b', true)]), 'Codesearch');
    assert.equal(searchTitle([named('a')]), 'Codesearch');
    assert.equal(searchTitle([]), 'Codesearch');
  });
  test('parseHits keeps the flag, and reads a missing one as not weak', () => {
    const parsed = parseHits([{ ...hit, weak: true }, { ...hit, weak: 'yes' }, hit]);
    assert.deepEqual(
      parsed.map((h) => h.weak),
      [true, false, false],
    );
  });
});

describe('debounce', () => {
  test('fires once with the last arguments after the pause', () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const calls: string[] = [];
      const d = debounce((q: string) => calls.push(q), 250);
      d('r');
      mock.timers.tick(100);
      d('re');
      mock.timers.tick(100);
      d('retry');
      mock.timers.tick(249);
      assert.deepEqual(calls, []);
      mock.timers.tick(1);
      assert.deepEqual(calls, ['retry']);
      mock.timers.tick(1000);
      assert.deepEqual(calls, ['retry']);
    } finally {
      mock.timers.reset();
    }
  });
  test('cancel drops the pending call; flush runs it now', () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const calls: string[] = [];
      const d = debounce((q: string) => calls.push(q), 250);
      d('a');
      d.cancel();
      mock.timers.tick(500);
      assert.deepEqual(calls, []);
      d('b');
      d.flush();
      assert.deepEqual(calls, ['b']);
      d.flush();
      assert.deepEqual(calls, ['b']);
    } finally {
      mock.timers.reset();
    }
  });
});

describe('LatestOnly', () => {
  test('only the newest ticket is current', () => {
    const latest = new LatestOnly();
    const first = latest.next();
    const second = latest.next();
    assert.equal(latest.isCurrent(first), false);
    assert.equal(latest.isCurrent(second), true);
    latest.invalidate();
    assert.equal(latest.isCurrent(second), false);
  });
});

describe('parsing server answers', () => {
  test('parseHits keeps well-formed hits and drops the rest', () => {
    const hits = parseHits([hit, { name: 'x' }, null, 'y', { ...hit, kind: 3, snippet: undefined, matched: [1, 'a'] }]);
    assert.equal(hits.length, 2);
    assert.deepEqual(hits[0], { ...hit, weak: false });
    assert.equal(hits[1].kind, '');
    assert.equal(hits[1].snippet, '');
    assert.deepEqual(hits[1].matched, ['a']);
    assert.equal(parseHits([{ ...hit, weak: true }])[0].weak, true);
    assert.equal(parseHits([{ ...hit, weak: 'yes' }])[0].weak, false);
    assert.deepEqual(parseHits(null), []);
    assert.deepEqual(parseHits({ hits: [] }), []);
  });
  test('parseStatus fills neutral values and rejects unknown states', () => {
    assert.deepEqual(parseStatus({ state: 'indexing', entities: 5, progress: { done: 1, total: 2 } }), {
      state: 'indexing',
      entities: 5,
      files: 0,
      pending: 0,
      failed: 0,
      skipped: 0,
      model: '',
      lastError: null,
      progress: { done: 1, total: 2 },
      embeddedTotal: 0,
      paused: false,
      sharedCache: null,
      notice: null,
    });
    assert.equal(parseStatus({ state: 'idle', paused: true, embeddedTotal: 7 })?.paused, true);
    const cache = { url: 'redis://***@cache:6379/0', problem: 'shared vector cache unavailable' };
    assert.deepEqual(parseStatus({ state: 'idle', sharedCache: cache })?.sharedCache, cache);
    assert.equal(parseStatus({ state: 'idle', sharedCache: { url: 3 } })?.sharedCache, null);
    assert.equal(parseStatus({ state: 'idle', notice: 'query embedding unavailable' })?.notice, 'query embedding unavailable');
    assert.equal(parseStatus({ state: 'idle', paused: 'yes' })?.paused, false);
    assert.equal(parseStatus({ state: 'idle', embeddedTotal: 7 })?.embeddedTotal, 7);
    assert.equal(parseStatus({ state: 'sleeping' }), undefined);
    assert.equal(parseStatus(null), undefined);
    assert.equal(parseStatus({ state: 'error', lastError: '' })?.lastError, null);
  });
  test('reindexSummary', () => {
    assert.equal(
      reindexSummary({ files: 97, entities: 1204, embedded: 12, cached: 1180, failed: 1, removed: 0, seconds: 3.21 }),
      'Codesearch: indexed 97 files, 1,204 entities (12 embedded, 1,180 cached, 1 failed) in 3.2 s.',
    );
    assert.equal(
      reindexSummary({ files: 53, entities: 254, embedded: 0, cached: 0, failed: 1, removed: 0, seconds: 0.01 }),
      'Codesearch: indexed 53 files, 254 entities (nothing changed, 1 failed) in 0.0 s.',
    );
    assert.equal(reindexSummary(null), 'Codesearch: reindex finished.');
  });
});
