import * as assert from 'node:assert/strict';
import type { EpochEvent } from '../../src/protocol/engineMessages';
import { parseHostToWebview, parseWebviewToHost } from '../../src/protocol/webviewMessages';
import { RunModel } from '../../webview/dashboard/runModel';
import { accuracySeries, probeCostLine, verdict } from '../../webview/dashboard/viewModel';

const epoch = (n: number, corrupted: number | null, test: number): EpochEvent => ({
  type: 'epoch',
  epoch: n,
  loss: 1 / n,
  accuracy: { cleanTrain: 0.9, corruptedTrain: corrupted, test },
  seconds: 0.3,
});

describe('dashboard view model', () => {
  it('turns epoch events into aligned series', () => {
    const s = accuracySeries([epoch(1, 0.1, 0.2), epoch(2, null, 0.5)]);
    assert.deepEqual(s.epoch, [1, 2]);
    assert.deepEqual(s.corruptedTrain, [0.1, null]);
    assert.deepEqual(s.test, [0.2, 0.5]);
    assert.deepEqual(s.loss, [1, 0.5]);
  });

  it('says memorizing when most corrupted labels are fitted, generalizing when they are not', () => {
    assert.match(verdict(epoch(1, 0.99, 0.05).accuracy, 'finished'), /^Memorizing/);
    assert.match(verdict(epoch(1, 0.01, 0.995).accuracy, 'finished'), /^Generalizing/);
    assert.match(verdict(epoch(1, 0.3, 0.5).accuracy, 'running', 7), /^Undecided \(so far, epoch 7\)/);
    // A run that ended knows it: no "so far", no "undecided".
    for (const status of ['finished', 'cancelled', 'died'] as const) {
      const text = verdict(epoch(1, 0.3, 0.5).accuracy, status, 100);
      assert.match(text, /^Neither memorizing nor generalizing \((finished|stopped|ended) at epoch 100\)/);
      assert.doesNotMatch(text, /so far|undecided/i);
    }
    assert.match(verdict(undefined, 'running'), /Starting: waiting/);
  });
});

describe('probe cost line', () => {
  it('is absent when no probe timed itself, and is the probes\' share of epochs plus probes', () => {
    assert.equal(probeCostLine(0, 0, [{ seconds: 3 }]), undefined);
    // 1 s of probes over 3 s of epochs: 25% of the 4 s.
    assert.equal(probeCostLine(1, 2, [{ seconds: 1 }, { seconds: 2 }]), "Probes: 25% of the run's time (1.0 s of 4.0 s; 2 calls, 0.50 s each).");
  });

  it('adds up the seconds of the probe events a run model receives', () => {
    const neuron = { kind: 'neuronScores' as const, layer: 'fc1', method: 'ablation' as const, scores: [0.1], raw: [0.1] };
    const m = new RunModel([
      { type: 'probe', epoch: 1, probe: neuron, seconds: 0.25 },
      { type: 'probe', epoch: 2, probe: neuron },
      { type: 'probe', epoch: 2, probe: neuron, seconds: 0.5 },
    ]);
    assert.equal(m.probeSeconds, 0.75);
    assert.equal(m.timedProbes, 2);
  });
});

describe('webview message validation', () => {
  it('accepts well-formed messages and rejects malformed ones', () => {
    assert.deepEqual(parseWebviewToHost({ type: 'ready' }), { type: 'ready' });
    assert.equal(parseWebviewToHost({ type: 'stop' }), undefined, 'stop needs a run id');
    assert.equal(parseWebviewToHost({ type: 'eval', code: 'x' }), undefined, 'unknown type');
    assert.equal(parseWebviewToHost('ready'), undefined);
    assert.equal(parseHostToWebview({ type: 'events', runId: 'r', events: [{ type: 'epoch', epoch: 1 }] }), undefined);
    assert.ok(parseHostToWebview({ type: 'events', runId: 'r', events: [epoch(1, 0, 0)] }));
  });
});
