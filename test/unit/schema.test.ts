import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { engineCommandJsonSchema, engineEventJsonSchema } from '../../src/protocol/engineMessages';
import { experimentJsonSchema } from '../../src/protocol/experiment';
import { datasetMetaJsonSchema, modelSignatureJsonSchema, torchEngineHelloJsonSchema, torchSelfCheckJsonSchema } from '../../src/protocol/torchEngine';

const root = join(__dirname, '..', '..');
const readJson = (rel: string): unknown => JSON.parse(readFileSync(join(root, rel), 'utf8'));
const fresh = (schema: unknown): unknown => JSON.parse(JSON.stringify(schema));

/**
 * The JSON Schema keywords the Python engine's validator must understand
 * (docs/torch-engine.md lists them). A zod change that makes the generator emit a new
 * keyword fails here instead of being silently ignored on the Python side.
 */
const PYTHON_KEYWORDS = new Set([
  '$schema', '$ref', '$defs', 'type', 'const', 'enum', 'properties', 'required', 'additionalProperties',
  'propertyNames', 'items', 'minItems', 'maxItems', 'anyOf', 'oneOf', 'minimum', 'maximum', 'exclusiveMinimum',
  'exclusiveMaximum', 'minLength', 'maxLength', 'pattern', 'default', 'description',
]);

/** Keywords of a schema, not descending into annotation values (default) or naming maps (properties, $defs keys). */
function keywords(schema: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(schema)) schema.forEach((s) => keywords(s, out));
  else if (schema && typeof schema === 'object') {
    for (const [k, v] of Object.entries(schema)) {
      out.add(k);
      if (k === 'default' || k === 'const' || k === 'enum') continue;
      if (k === 'properties' || k === '$defs') Object.values(v as object).forEach((s) => keywords(s, out));
      else keywords(v, out);
    }
  }
  return out;
}

function refs(schema: unknown, out: string[] = []): string[] {
  if (Array.isArray(schema)) schema.forEach((s) => refs(s, out));
  else if (schema && typeof schema === 'object') {
    for (const [k, v] of Object.entries(schema)) {
      if (k === '$ref') out.push(v as string);
      else refs(v, out);
    }
  }
  return out;
}

describe('experiment JSON schema', () => {
  it('committed schemas/experiment.schema.json matches the zod schema (run `npm run schema`)', () => {
    assert.deepEqual(readJson('schemas/experiment.schema.json'), fresh(experimentJsonSchema()));
  });

  it('package.json validates *.reglens.json with it, but not the lint config .reglens.json', () => {
    const pkg = readJson('package.json') as { contributes: { jsonValidation: unknown } };
    assert.deepEqual(pkg.contributes.jsonValidation, [
      { fileMatch: ['*.reglens.json', '!.reglens.json'], url: './schemas/experiment.schema.json' },
    ]);
  });
});

describe('JSON schemas of the Python engine\'s inputs and outputs', () => {
  const cases: [string, () => unknown][] = [
    ['python/reglens/schemas/engine-command.schema.json', engineCommandJsonSchema],
    ['python/reglens/schemas/engine-event.schema.json', engineEventJsonSchema],
    ['python/reglens/schemas/self-check.schema.json', torchSelfCheckJsonSchema],
    ['python/reglens/schemas/engine-hello.schema.json', torchEngineHelloJsonSchema],
    ['python/reglens/schemas/model-signature.schema.json', modelSignatureJsonSchema],
    ['python/reglens/schemas/dataset-meta.schema.json', datasetMetaJsonSchema],
  ];
  for (const [rel, generate] of cases) {
    it(`committed ${rel} matches the zod schema (run \`npm run schema\`)`, () => {
      assert.deepEqual(readJson(rel), fresh(generate()));
    });

    it(`${rel} is self-contained: every $ref points into its own $defs`, () => {
      const schema = generate() as { $defs?: Record<string, unknown> };
      for (const r of refs(schema)) {
        const m = /^#\/\$defs\/(.+)$/.exec(r);
        assert.ok(m, `${r} is not a local #/$defs reference`);
        assert.ok(schema.$defs && m[1] in schema.$defs, `${r} is not defined`);
      }
    });

    it(`${rel} uses only the keywords the Python validator understands`, () => {
      const unknown = [...keywords(generate())].filter((k) => !PYTHON_KEYWORDS.has(k));
      assert.deepEqual(unknown, [], 'extend python/reglens\'s validator and docs/torch-engine.md, then this list');
    });
  }

  it('the command schema requires the defaulted fields engine.js always sends', () => {
    const schema = engineCommandJsonSchema() as { oneOf: { properties: { type: { const: string } }; required: string[] }[] };
    const start = schema.oneOf.find((s) => s.properties.type.const === 'start');
    assert.ok(start);
    assert.deepEqual(start.required.sort(), ['backend', 'experiment', 'type']);
  });
});
