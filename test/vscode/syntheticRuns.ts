// Synthetic run folders written the way RunFolder writes them (spec, events, summary), with
// schema-valid events including the probe events the engine emits, so views have data
// without waiting for the engine.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseEngineEvent } from '../../src/protocol/engineMessages';
import { workspaceUri } from './waitFor';

export function syntheticEvents(weightDecay: number, epochs: number, units: number): unknown[] {
  const memorizes = weightDecay === 0;
  const events: unknown[] = [
    { type: 'started', time: '2025-01-01T00:00:00.000Z', backend: 'wasm', totalEpochs: epochs, dataset: { train: 264, corrupted: 79, test: 265, inputSize: 46, classes: 23 }, parameters: 64 * 69 },
  ];
  for (let e = 1; e <= epochs; e++) {
    const corrupted = memorizes ? Math.min(1, e / epochs) : e <= epochs / 2 ? e / epochs : Math.max(0, 1 - (2 * e) / epochs);
    events.push({ type: 'epoch', epoch: e, loss: 3 / e, accuracy: { cleanTrain: Math.min(1, 0.2 + e / epochs), corruptedTrain: corrupted, test: memorizes ? 0.1 : Math.min(1, e / epochs) }, seconds: 0.01, labelPrecision: 0.7 + 0.2 * (e / epochs) });
    const scores = Array.from({ length: units }, (_, u) => (u % 5 === 0 ? 0.5 + 0.5 * (e / epochs) : 0.1));
    events.push({ type: 'probe', epoch: e, probe: { kind: 'neuronScores', layer: 'dense_0', method: 'ipr', scores, raw: scores.map((s) => 1 - s), detail: { spectrum: scores.map((s) => [s, 1 - s, 0.2]) } } });
  }
  // The pruning probe as the engine reports it with probes.pruning.save (run a) or without (run b).
  const curve = { cleanTrain: [1, 0.9], corruptedTrain: [memorizes ? 1 : 0, 0], test: [0.5, 0.5] };
  events.push({ type: 'probe', epoch: epochs, probe: { kind: 'pruning', layer: 'dense_0', method: 'ipr', pruned: [0, 8], units, memorizingFirst: curve, generalizingFirst: curve, ...(memorizes ? { savedModel: 'pruned-model/model.json' } : {}) } });
  events.push({ type: 'finished', time: '2025-01-01T00:01:00.000Z', epochs, final: { cleanTrain: 1, corruptedTrain: memorizes ? 1 : 0, test: memorizes ? 0.1 : 1 }, secondsPerEpoch: 0.01 });
  for (const e of events) {
    const r = parseEngineEvent(e);
    if (!r.ok) throw new Error(`synthetic event invalid: ${r.error}`);
  }
  return events;
}

/** Writes a finished run folder the way RunFolder does (spec, events, summary). */
export function writeRun(id: string, name: string, weightDecay: number, opts: { truncate?: boolean; experimentFile?: string; endedAt?: string } = {}): string {
  const dir = path.join(workspaceUri('.reglens/runs').fsPath, id);
  mkdirSync(dir, { recursive: true });
  const spec = JSON.parse(readFileSync(workspaceUri('tiny.reglens.json').fsPath, 'utf8'));
  spec.name = name;
  spec.training.optimizer.weightDecay = weightDecay;
  writeFileSync(path.join(dir, 'spec.json'), JSON.stringify(spec));
  let text = syntheticEvents(weightDecay, 6, 64).map((e) => JSON.stringify(e)).join('\n') + '\n';
  if (opts.truncate) text += '{"type":"epoch","epo';
  writeFileSync(path.join(dir, 'events.jsonl'), text);
  if (weightDecay === 0) {
    mkdirSync(path.join(dir, 'pruned-model'), { recursive: true });
    writeFileSync(path.join(dir, 'pruned-model', 'model.json'), JSON.stringify({ format: 'layers-model', weightsManifest: [{ paths: ['weights.bin'], weights: [] }] }));
    writeFileSync(path.join(dir, 'pruned-model', 'weights.bin'), Buffer.alloc(64, 1));
  }
  const final = { cleanTrain: 1, corruptedTrain: weightDecay === 0 ? 1 : 0, test: weightDecay === 0 ? 0.1 : 1 };
  writeFileSync(
    path.join(dir, 'summary.json'),
    JSON.stringify({ id, name, status: 'finished', startedAt: '2025-01-01T00:00:00.000Z', endedAt: opts.endedAt ?? '2025-01-01T00:01:00.000Z', epochs: 6, totalEpochs: 6, backend: 'wasm', final, ...(opts.experimentFile ? { experimentFile: opts.experimentFile } : {}) }),
  );
  return dir;
}
