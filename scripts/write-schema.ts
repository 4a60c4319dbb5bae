// Regenerates schemas/experiment.schema.json from the zod schema (npm run schema).
// test/unit/schema.test.ts fails when the committed file is stale.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { experimentJsonSchema } from '../src/protocol/experiment';

const out = join(__dirname, '..', 'schemas', 'experiment.schema.json');
writeFileSync(out, JSON.stringify(experimentJsonSchema(), null, 2) + '\n');
console.log(`wrote ${out}`);
