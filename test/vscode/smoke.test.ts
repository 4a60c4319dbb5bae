// Smoke test: the real VS Code extension host is up and RegLens is loaded in it.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { RegLensApi } from '../../src/extension';
import { extensionApi } from './waitFor';

describe('smoke', () => {
  it('runs inside VS Code with the RegLens extension present', async () => {
    assert.strictEqual(typeof vscode.version, 'string');
    assert.match(vscode.version, /^\d+\.\d+\.\d+/);
    const ext = vscode.extensions.getExtension('reglens.reglens');
    assert.ok(ext, 'extension reglens.reglens is not present in the extension host');
  });

  // The host replaces Node's `navigator` global with a getter that logs a PendingMigrationError,
  // with the reader's stack, on every read; a bundled library sniffing it at load did that.
  it('loading and activating the extension read no navigator global (nothing in the host log)', async () => {
    const api = await extensionApi<RegLensApi>();
    const hostLogDir = path.dirname(api.logFolder());
    const logs = fs.readdirSync(hostLogDir).filter((f) => /exthost\.log$/i.test(f));
    const text = logs.map((f) => fs.readFileSync(path.join(hostLogDir, f), 'utf8')).join('\n');
    // The right log: the one that recorded this extension's activation.
    assert.match(text, /_doActivateExtension reglens\.reglens/, `activation not in ${logs.join(', ') || `no *exthost.log in ${hostLogDir}`}`);
    const extensionPath = vscode.extensions.getExtension('reglens.reglens')!.extensionPath;
    const ours = text.split(/\n(?=\d{4}-\d\d-\d\d )/).filter((entry) => /PendingMigrationError/.test(entry) && entry.includes(extensionPath));
    assert.deepEqual(ours, []);
  });
});
