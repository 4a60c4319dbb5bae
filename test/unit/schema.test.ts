import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { experimentJsonSchema } from '../../src/protocol/experiment';

describe('experiment JSON schema', () => {
  it('committed schemas/experiment.schema.json matches the zod schema (run `npm run schema`)', () => {
    const committed = JSON.parse(readFileSync(join(__dirname, '..', '..', 'schemas', 'experiment.schema.json'), 'utf8'));
    assert.deepEqual(committed, JSON.parse(JSON.stringify(experimentJsonSchema())));
  });

  it('package.json validates *.reglens.json with it', () => {
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8'));
    assert.deepEqual(pkg.contributes.jsonValidation, [
      { fileMatch: '*.reglens.json', url: './schemas/experiment.schema.json' },
    ]);
  });
});
