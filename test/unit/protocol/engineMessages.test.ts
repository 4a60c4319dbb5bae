import * as assert from 'node:assert/strict';
import { parseEngineCommand, parseEngineEvent } from '../../../src/protocol/engineMessages';
import { tinyExperiment } from '../helpers/experiments';

const epoch = {
  type: 'epoch',
  epoch: 3,
  loss: 1.25,
  accuracy: { cleanTrain: 0.5, corruptedTrain: null, test: 0.25 },
  seconds: 0.4,
};

describe('engine message validation', () => {
  it('accepts well-formed events', () => {
    assert.ok(parseEngineEvent(epoch).ok);
    assert.ok(parseEngineEvent({ type: 'log', level: 'info', message: 'hi' }).ok);
    assert.ok(parseEngineEvent({ type: 'failed', time: 't', message: 'boom' }).ok);
    assert.ok(parseEngineEvent({ type: 'finished', time: 't', epochs: 0, final: null, secondsPerEpoch: null }).ok);
  });

  const bad: [string, unknown, RegExp][] = [
    ['not an object', 'epoch', /./],
    ['null', null, /./],
    ['unknown type', { ...epoch, type: 'progress' }, /type/],
    ['missing field', { ...epoch, loss: undefined }, /loss/],
    ['wrong type', { ...epoch, epoch: '3' }, /epoch/],
    ['NaN loss', { ...epoch, loss: NaN }, /loss/],
    ['infinite loss', { ...epoch, loss: Infinity }, /loss/],
    ['accuracy out of range', { ...epoch, accuracy: { ...epoch.accuracy, test: 1.5 } }, /accuracy\.test/],
    ['extra field', { ...epoch, extra: 1 }, /extra|Unrecognized/],
    ['bad log level', { type: 'log', level: 'debug', message: 'x' }, /level/],
  ];
  for (const [what, value, field] of bad) {
    it(`rejects an event with ${what}`, () => {
      const r = parseEngineEvent(value);
      assert.equal(r.ok, false);
      if (!r.ok) assert.match(r.error, field);
    });
  }

  it('validates commands, including the experiment inside start', () => {
    assert.ok(parseEngineCommand({ type: 'cancel' }).ok);
    const start = parseEngineCommand({ type: 'start', experiment: tinyExperiment() });
    assert.ok(start.ok && start.value.type === 'start' && start.value.backend === 'auto');
    assert.equal(parseEngineCommand({ type: 'stop' }).ok, false);
    assert.equal(parseEngineCommand({ type: 'start' }).ok, false);
    assert.equal(parseEngineCommand({ type: 'start', experiment: tinyExperiment(), backend: 'gpu' }).ok, false);
    assert.ok(parseEngineCommand({ type: 'start', experiment: tinyExperiment(), evalThread: 'off' }).ok);
    const thread = parseEngineCommand({ type: 'start', experiment: tinyExperiment(), evalThread: 'maybe' });
    assert.ok(!thread.ok && /evalThread/.test(thread.error));
    const bad = parseEngineCommand({ type: 'start', experiment: { ...tinyExperiment(), training: { epochs: 0 } } });
    assert.equal(bad.ok, false);
    if (!bad.ok) assert.match(bad.error, /experiment\.training\.epochs/);
  });
});
