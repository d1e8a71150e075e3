import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ClientCommand } from '../../src/commands/ids';
import { CrashWindow } from '../../src/logic/crashes';
import { type MenuState, menuEntries } from '../../src/logic/menu';

const running: MenuState = { phase: { kind: 'running' }, paused: false, canCancel: false, canInstall: true };
const labels = (state: MenuState): string[] => menuEntries(state).map((e) => e.label.replace(/^\$\([^)]*\)\s*/, ''));

describe('the status menu', () => {
  test('offers Pause while indexing runs, and Resume once paused', () => {
    assert.ok(labels(running).includes('Pause Indexing'));
    assert.ok(!labels(running).includes('Resume Indexing'));
    const paused = labels({ ...running, paused: true });
    assert.ok(paused.includes('Resume Indexing'));
    assert.ok(!paused.includes('Pause Indexing'));
    const resume = menuEntries({ ...running, paused: true }).find((e) => e.label.endsWith('Resume Indexing'));
    assert.equal(resume?.command, ClientCommand.resumeIndexing);
  });

  test('Cancel Indexing only while a run can be cancelled', () => {
    assert.ok(!labels(running).includes('Cancel Indexing'));
    const entry = menuEntries({ ...running, canCancel: true }).find((e) => e.label.endsWith('Cancel Indexing'));
    assert.equal(entry?.action, 'cancelIndexing');
  });

  test('a server that failed puts the reason and its fixes first, and no Pause', () => {
    const state: MenuState = { ...running, phase: { kind: 'failed', reason: 'Python 3.8 is too old' } };
    const entries = menuEntries(state);
    assert.equal(entries[0].separator, true);
    assert.match(entries[0].label, /Python 3\.8 is too old/);
    assert.deepEqual(
      entries.slice(1, 3).map((e) => e.command),
      [ClientCommand.installServer, ClientCommand.selectInterpreter],
    );
    assert.ok(!labels(state).includes('Pause Indexing'));
    const noWheel = menuEntries({ ...state, canInstall: false }).map((e) => e.command);
    assert.ok(!noWheel.includes(ClientCommand.installServer));
  });

  test('Restricted Mode offers to manage trust', () => {
    const entries = menuEntries({ ...running, phase: { kind: 'restricted' } });
    assert.equal(entries[0].action, 'manageTrust');
  });

  test('search, reindex and the logs are always there', () => {
    for (const phase of [{ kind: 'running' }, { kind: 'stopped' }, { kind: 'restricted' }] as const) {
      const commands = menuEntries({ ...running, phase }).map((e) => e.command);
      for (const id of [ClientCommand.search, ClientCommand.reindex, ClientCommand.showLogs]) {
        assert.ok(commands.includes(id), `${phase.kind}: ${id}`);
      }
    }
  });
});

describe('restarting a crashed server', () => {
  test('up to three times in three minutes, then not', () => {
    const crashes = new CrashWindow(180_000, 3);
    assert.deepEqual([0, 1000, 2000].map((t) => crashes.record(t)), [true, true, true]);
    assert.equal(crashes.record(3000), false);
    assert.equal(crashes.count, 4);
  });
  test('old exits fall out of the window, and a restart by the user starts afresh', () => {
    const crashes = new CrashWindow(180_000, 3);
    for (const t of [0, 1000, 2000]) {
      crashes.record(t);
    }
    assert.equal(crashes.record(200_000), true);
    assert.equal(crashes.count, 1);
    crashes.record(200_001);
    crashes.record(200_002);
    crashes.reset();
    assert.equal(crashes.record(200_003), true);
  });
});
