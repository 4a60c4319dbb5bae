import * as assert from 'node:assert/strict';
import { deleteConfirmation, localTime, percent, relativeTime, rowDescription, runEndedMessage, statusBarContent } from '../../../src/runs/runDescriptions';

const now = new Date('2026-12-02T23:45:00.000Z');
const ago = (s: number) => new Date(now.getTime() - s * 1000).toISOString();

describe('run descriptions', () => {
  it('says times relative to now, not as UTC ISO strings', () => {
    assert.equal(relativeTime(ago(3), now), 'just now');
    assert.equal(relativeTime(ago(42), now), '42 s ago');
    assert.equal(relativeTime(ago(3 * 60 + 20), now), '3 min ago');
    assert.equal(relativeTime(ago(2 * 3600 + 60), now), '2 h ago');
    assert.equal(relativeTime(ago(30 * 3600), now), 'yesterday');
    assert.equal(relativeTime(ago(5 * 86400), now), '5 days ago');
    assert.doesNotMatch(relativeTime(ago(40 * 86400), now), /T\d\d:|Z$/);
    assert.equal(relativeTime('not a time', now), 'not a time');
  });

  it('gives the local time with its zone for tooltips', () => {
    const t = localTime('2026-12-02T23:42:07.000Z', 'Europe/Berlin');
    assert.match(t, /12:42:07/);
    assert.match(t, /2026/);
    assert.doesNotMatch(t, /T23:42/);
  });

  it('shows one decimal and never rounds 99.7% (or 99.96%) up to 100%', () => {
    assert.equal(percent(0.997), '99.7%');
    assert.equal(percent(0.9996), '>99.9%');
    assert.equal(percent(1), '100.0%');
    assert.equal(percent(0.0001), '<0.1%');
    assert.equal(percent(0), '0.0%');
    assert.equal(percent(null), 'n/a');
  });

  it('puts the status and when in each Runs view row', () => {
    assert.equal(
      rowDescription({ status: 'running', epochs: 12, totalEpochs: 50, startedAt: ago(90) }, now),
      'running · epoch 12/50 · started 1 min ago',
    );
    assert.equal(
      rowDescription({ status: 'finished', epochs: 50, totalEpochs: 50, startedAt: ago(900), endedAt: ago(180), final: { cleanTrain: 1, corruptedTrain: 0.021, test: 0.997 } }, now),
      'finished 3 min ago · epoch 50/50 · test 99.7%, noise fitted 2.1%',
    );
    assert.equal(rowDescription({ status: 'died', epochs: 3, totalEpochs: 50, startedAt: ago(7200) }, now), 'died 2 h ago · epoch 3/50');
  });

  it('status bar: "RegLens: epoch 12/50 · 2 runs", each run in the tooltip', () => {
    assert.equal(statusBarContent([]), undefined);
    const one = statusBarContent([{ label: 'wd 5', epoch: 3, totalEpochs: 10, backend: 'wasm' }])!;
    assert.equal(one.text, 'RegLens: epoch 3/10 · wasm');
    const two = statusBarContent([
      { label: 'wd 5', epoch: 30, totalEpochs: 100, backend: 'wasm' },
      { label: 'wd 0', epoch: 12, totalEpochs: 50, backend: 'torch-cpu' },
    ])!;
    assert.equal(two.text, 'RegLens: epoch 12/50 · 2 runs');
    assert.match(two.tooltip, /wd 5: epoch 30 of 100 on wasm\nwd 0: epoch 12 of 50 on torch-cpu/);
    assert.doesNotMatch(two.text, /\(\+1\)/);
  });

  it('asks before deleting by the run\'s label and start, not its id', () => {
    const q = deleteConfirmation('weightDecay=0 · modular addition', ago(600), now);
    assert.match(q, /^Delete the run "weightDecay=0 · modular addition" \(started 10 min ago, .+\) and its folder from disk\?$/);
  });

  it('notifies finished, stopped and failed runs with their key numbers', () => {
    const final = { cleanTrain: 1, corruptedTrain: 0.05, test: 0.93 };
    assert.deepEqual(runEndedMessage({ label: 'wd 5', status: 'finished', epochs: 50, totalEpochs: 50, final }), {
      severity: 'info',
      text: 'RegLens: "wd 5" finished after 50 epochs: test 93.0%, noisy labels fitted 5.0%.',
    });
    const stopped = runEndedMessage({ label: 'wd 5', status: 'cancelled', epochs: 7, totalEpochs: 50, final });
    assert.equal(stopped.severity, 'warning');
    assert.match(stopped.text, /stopped at epoch 7 of 50 \(test 93\.0%/);
    const failed = runEndedMessage({ label: 'wd 5', status: 'failed', epochs: 0, totalEpochs: 50, error: 'out of memory' });
    assert.deepEqual(failed, { severity: 'error', text: 'RegLens: "wd 5" failed at epoch 0 of 50: out of memory' });
  });
});
