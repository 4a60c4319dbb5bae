// Regenerates the JSON Schemas derived from the zod schemas (npm run schema):
// schemas/experiment.schema.json (editor validation of *.reglens.json) and the two the
// Python engine validates its channel, its self-check line and the dataset's meta.json
// against (python/reglens/schemas/).
// test/unit/schema.test.ts fails when a committed file is stale.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { engineCommandJsonSchema, engineEventJsonSchema } from '../src/protocol/engineMessages';
import { experimentJsonSchema } from '../src/protocol/experiment';
import { datasetMetaJsonSchema, modelSignatureJsonSchema, torchEngineHelloJsonSchema, torchSelfCheckJsonSchema } from '../src/protocol/torchEngine';

const root = join(__dirname, '..');
const outputs: [string, unknown][] = [
  ['schemas/experiment.schema.json', experimentJsonSchema()],
  ['python/reglens/schemas/engine-command.schema.json', engineCommandJsonSchema()],
  ['python/reglens/schemas/engine-event.schema.json', engineEventJsonSchema()],
  ['python/reglens/schemas/self-check.schema.json', torchSelfCheckJsonSchema()],
  ['python/reglens/schemas/engine-hello.schema.json', torchEngineHelloJsonSchema()],
  ['python/reglens/schemas/model-signature.schema.json', modelSignatureJsonSchema()],
  ['python/reglens/schemas/dataset-meta.schema.json', datasetMetaJsonSchema()],
];
for (const [rel, schema] of outputs) {
  const out = join(root, rel);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(schema, null, 2) + '\n');
  console.log(`wrote ${out}`);
}
