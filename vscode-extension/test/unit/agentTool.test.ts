import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  charBudget,
  DEFAULT_CHAR_BUDGET,
  indexNote,
  invocationMessage,
  MIN_CHAR_BUDGET,
  renderToolResult,
  searchArgsFromInput,
  TOOL_DEFAULT_LIMIT,
} from '../../src/logic/agentTool';
import type { StatusPayload } from '../../src/logic/contract';
import type { Hit } from '../../src/logic/contract';

function hitNamed(name: string, i = 0, extra: Partial<Hit> = {}): Hit {
  return {
    uri: `file:///ws/pkg/mod${i}.py`,
    range: { start: { line: 9 + i, character: 0 }, end: { line: 20 + i, character: 0 } },
    name,
    kind: 'function',
    language: 'python',
    path: `pkg/mod${i}.py`,
    score: 0.8 - i / 100,
    snippet: `def ${name}(queue, attempts=3):`,
    matched: [],
    weak: false,
    ...extra,
  };
}

const pathOf = (h: Hit): string => h.path;

const idle: StatusPayload = {
  state: 'idle',
  entities: 1204,
  files: 97,
  pending: 0,
  failed: 0,
  skipped: 0,
  model: 'all-MiniLM-L6-v2',
  lastError: null,
  progress: null,
  embeddedTotal: 1204,
  paused: false,
  sharedCache: null,
  notice: null,
};

describe('tool input', () => {
  test('a query alone: the default limit, no filters', () => {
    assert.deepEqual(searchArgsFromInput({ query: '  retry failed uploads ' }), {
      ok: true,
      value: { query: 'retry failed uploads', limit: TOOL_DEFAULT_LIMIT },
    });
  });
  test('every filter maps to the server argument; language and kind in any case', () => {
    assert.deepEqual(
      searchArgsFromInput({ query: 'q', limit: 3, pathGlob: 'src/**', language: 'Python', kind: 'CLASS' }),
      { ok: true, value: { query: 'q', limit: 3, path: 'src/**', language: 'python', kind: 'class' } },
    );
    // empty optional strings and nulls mean "no filter"
    assert.deepEqual(searchArgsFromInput({ query: 'q', pathGlob: '', language: null }), {
      ok: true,
      value: { query: 'q', limit: TOOL_DEFAULT_LIMIT },
    });
  });
  const rejected = (input: unknown): string => {
    const r = searchArgsFromInput(input);
    assert.equal(r.ok, false, JSON.stringify(input));
    return r.ok ? '' : r.error;
  };
  test('a missing or empty query, or no object at all, is refused with what to send', () => {
    assert.match(rejected({}), /query is required/);
    assert.match(rejected({ query: '   ' }), /query is required/);
    assert.match(rejected({ query: 3 }), /query is required/);
    assert.match(rejected('retry'), /must be an object/);
    assert.match(rejected(null), /must be an object/);
    assert.match(rejected(['q']), /must be an object/);
  });
  test('limits outside 1..50 and fractions are refused', () => {
    for (const limit of [0, 51, 2.5, '10', true]) {
      assert.match(rejected({ query: 'q', limit }), /limit must be a whole number from 1 to 50/);
    }
  });
  test('unknown languages, kinds and inputs are named in the error', () => {
    assert.match(rejected({ query: 'q', language: 'cobol' }), /language must be one of .*python/);
    assert.match(rejected({ query: 'q', kind: 'variable' }), /kind must be one of function, method, class/);
    assert.match(rejected({ query: 'q', path_glob: '*.py' }), /unknown input path_glob; the inputs are query, limit, pathGlob/);
    assert.match(rejected({ query: 'q', pathGlob: 3 }), /pathGlob must be a string/);
  });
});

describe('tool result', () => {
  test('one line per hit: path:lines kind name (score), then its first line', () => {
    const text = renderToolResult([hitNamed('retry_failed_uploads'), hitNamed('Uploader.retry', 1, { kind: 'method', snippet: '' })], {
      query: 'retry failed uploads',
      pathOf,
    });
    const lines = text.split('\n');
    assert.match(lines[0], /^Codesearch: 2 matches for "retry failed uploads", best first/);
    assert.ok(lines.includes('1. pkg/mod0.py:10-21 function retry_failed_uploads (score 0.80)'), text);
    assert.ok(lines.includes('   def retry_failed_uploads(queue, attempts=3):'), text);
    assert.ok(lines.includes('2. pkg/mod1.py:11-22 method Uploader.retry (score 0.79)'), text);
    assert.doesNotMatch(text, /weak|No strong match|left out/);
  });
  test('no hits says so', () => {
    assert.equal(renderToolResult([], { query: 'q', pathOf }), 'Codesearch found no code for "q".');
  });
  test('weak matches are marked; when all are weak the answer says there is no strong match', () => {
    const mixed = renderToolResult([hitNamed('a'), hitNamed('b', 1, { weak: true })], { query: 'q', pathOf });
    assert.match(mixed, /2\. pkg\/mod1\.py:11-22 function b \(score 0\.79, weak match\)/);
    assert.match(mixed, /1 of these is a weak match/);
    assert.doesNotMatch(mixed, /No strong match/);
    const allWeak = renderToolResult([hitNamed('a', 0, { weak: true }), hitNamed('b', 1, { weak: true })], {
      query: 'q',
      pathOf,
    });
    assert.match(allWeak.split('\n').slice(0, 3).join('\n'), /No strong match/);
  });
  test('the answer stays within its budget and says how many hits it left out', () => {
    const many = Array.from({ length: 50 }, (_, i) => hitNamed(`function_number_${i}`, i, { snippet: 'x'.repeat(400) }));
    for (const budget of [MIN_CHAR_BUDGET, 1500, DEFAULT_CHAR_BUDGET]) {
      const text = renderToolResult(many, { query: 'q', pathOf, budget, note: indexNote({ ...idle, state: 'indexing' }) });
      assert.ok(text.length <= budget, `${text.length} > ${budget}`);
      const shown = text.split('\n').filter((l) => /^\d+\. /.test(l)).length;
      assert.ok(shown >= 1 && shown < 50, `${shown} shown`);
      assert.match(text, new RegExp(`${50 - shown} more matches left out`));
      assert.match(text, /still indexing/);
    }
    // snippets are cut to one short line
    const one = renderToolResult([hitNamed('a', 0, { snippet: 'y'.repeat(400) })], { query: 'q', pathOf });
    assert.ok(one.split('\n').every((l) => l.length <= 200));
  });
  test('budget from the caller: tokens at 3 characters each, within bounds', () => {
    assert.equal(charBudget(undefined), DEFAULT_CHAR_BUDGET);
    assert.equal(charBudget(1000), 3000);
    assert.equal(charBudget(2000), 6000);
    assert.equal(charBudget(100), MIN_CHAR_BUDGET);
    assert.equal(charBudget(1e9), DEFAULT_CHAR_BUDGET);
    assert.equal(charBudget(0), DEFAULT_CHAR_BUDGET);
  });
});

describe('index note', () => {
  test('an index still being built is reported with its progress, as no failure', () => {
    const note = indexNote({ ...idle, state: 'indexing', progress: { done: 340, total: 1200 } });
    assert.equal(
      note,
      'Codesearch is still indexing (340 of 1,200 embedded): these results cover the 1,204 functions and classes in 97 files indexed so far; code not indexed yet may be missing.',
    );
    assert.match(indexNote({ ...idle, state: 'starting' }) ?? '', /still starting/);
    assert.match(indexNote({ ...idle, paused: true, pending: 4 }) ?? '', /paused with 4 files waiting/);
    assert.match(indexNote({ ...idle, state: 'error', lastError: 'disk full' }) ?? '', /indexing error \(disk full\)/);
  });
  test('an up-to-date index, or an unknown status, adds nothing', () => {
    assert.equal(indexNote(idle), undefined);
    assert.equal(indexNote({ ...idle, paused: true }), undefined);
    assert.equal(indexNote(undefined), undefined);
  });
});

describe('invocation message', () => {
  test('quotes the query, shortened', () => {
    assert.equal(invocationMessage({ query: 'retry failed uploads' }), 'Searching the code for "retry failed uploads"');
    assert.ok(invocationMessage({ query: 'x'.repeat(300) }).length < 110);
    assert.equal(invocationMessage({}), 'Searching the code by meaning');
  });
});
