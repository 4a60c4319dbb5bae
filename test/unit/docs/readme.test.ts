// The README is the settings and commands reference users read: every contributed setting
// and command must be in it, so adding one without documenting it fails here.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.join(__dirname, '../../..');
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  contributes: { commands: { command: string; title: string }[]; configuration: { properties: Record<string, { markdownDescription?: string; description?: string }> } | { properties: Record<string, unknown> }[] };
};

describe('README', () => {
  it('documents every contributed setting', () => {
    const sections = ([] as { properties: Record<string, unknown> }[]).concat(manifest.contributes.configuration);
    const keys = sections.flatMap((s) => Object.keys(s.properties));
    assert.ok(keys.length > 5);
    const missing = keys.filter((key) => {
      // Per-rule severities are listed by rule name in one row.
      const severity = /^reglens\.diagnostics\.(\w+)\.severity$/.exec(key);
      return severity ? !readme.includes(`\`${severity[1]}\``) : !readme.includes(`\`${key}\``);
    });
    assert.deepEqual(missing, []);
  });

  it('names every contributed command by its title', () => {
    const missing = manifest.contributes.commands.filter((c) => !readme.includes(c.title)).map((c) => `${c.command} (${c.title})`);
    assert.deepEqual(missing, []);
  });

  it('gives each setting a description in the manifest', () => {
    const sections = ([] as { properties: Record<string, { markdownDescription?: string; description?: string }> }[]).concat(
      manifest.contributes.configuration as never,
    );
    const bare = sections.flatMap((s) => Object.entries(s.properties)).filter(([, v]) => !(v.markdownDescription ?? v.description)?.trim());
    assert.deepEqual(bare.map(([k]) => k), []);
  });
});
