import * as assert from 'node:assert/strict';
import { probePair, probeVerdict } from '../../../src/runs/probeVerdict';

const run = (corruptedTrain: number | null, test: number, status = 'finished') => ({ name: 'x', status, final: { cleanTrain: 1, corruptedTrain, test } });

describe('probe verdict: did the regularizer help?', () => {
  it('helped: fits fewer corrupted labels and tests better, by how much', () => {
    const v = probeVerdict(run(0.98, 0.8), run(0.41, 0.874), 'dropout 0.3 after 2 hidden activations');
    assert.equal(v.outcome, 'helped');
    assert.equal(
      v.text,
      'Dropout 0.3 after 2 hidden activations helped: it fitted 57.0 points fewer corrupted training labels (98.0% → 41.0%), and test accuracy rose 7.4 points (80.0% → 87.4%).',
    );
  });

  it('did not help when test accuracy falls, mixed when only the fit changes, no difference within a point', () => {
    assert.equal(probeVerdict(run(0.9, 0.8), run(0.9, 0.7)).outcome, 'hurt');
    assert.match(probeVerdict(run(0.9, 0.8), run(0.9, 0.7)).text, /did not help: .*test accuracy fell 10\.0 points/);
    assert.equal(probeVerdict(run(0.9, 0.8), run(0.3, 0.805)).outcome, 'mixed');
    const same = probeVerdict(run(0.5, 0.8), run(0.495, 0.805));
    assert.equal(same.outcome, 'no-difference');
    assert.match(same.text, /about as many corrupted training labels .* stayed about the same/);
  });

  it('waits for both runs to finish; clean labels are judged by test accuracy alone', () => {
    const v = probeVerdict(run(0.9, 0.8), run(0.1, 0.9, 'running'));
    assert.equal(v.outcome, 'undecided');
    assert.match(v.text, /one run has not finished/);
    assert.equal(probeVerdict(run(null, 0.8), run(null, 0.85)).outcome, 'helped');
  });

  it('recognises a probe pair by its names, in either order', () => {
    const plain = { name: 'Probe: model on Two moons, 30% symmetric label noise' };
    const reg = { name: `${plain.name} + dropout 0.3 after 1 hidden activation` };
    assert.deepEqual(probePair([reg, plain]), { plain: 1, regularized: 0, regularizer: 'dropout 0.3 after 1 hidden activation' });
    assert.equal(probePair([plain, { name: 'something else' }]), undefined);
    assert.equal(probePair([plain, reg, reg]), undefined);
  });
});
