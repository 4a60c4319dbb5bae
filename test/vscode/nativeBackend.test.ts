// "RegLens: Install Native Backend" in a real extension host, with a stand-in npm (REGLENS_NPM;
// the tests run in the extension host's own process, so setting it here reaches the command):
// an unreachable registry gives the "offline" error; a successful install lands in the
// extension's global storage, the next run's engine finds it there, tries it, and falls back
// to wasm saying why (a stand-in package cannot load, just as tfjs-node without libtensorflow).
import * as assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RegLensApi } from '../../src/extension';
import type { InstallResult } from '../../src/host/runs/nativeBackend';
import { extensionApi, workspaceUri } from './waitFor';

const bin = mkdtempSync(path.join(os.tmpdir(), 'reglens-fake-npm-'));

function fakeNpm(name: string, body: string): string {
  const file = path.join(bin, name);
  writeFileSync(file, `#!/usr/bin/env node\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

describe('Install Native Backend', () => {
  const savedNpm = process.env.REGLENS_NPM;
  let installedDir: string | undefined;
  const experiment = workspaceUri('native-fallback.reglens.json');

  before(async () => {
    await extensionApi();
  });
  after(async () => {
    if (savedNpm === undefined) delete process.env.REGLENS_NPM;
    else process.env.REGLENS_NPM = savedNpm;
    // Later runs must not keep trying the stand-in package.
    if (installedDir) rmSync(path.join(installedDir, 'node_modules'), { recursive: true, force: true });
    await vscode.workspace.fs.delete(experiment).then(undefined, () => undefined);
    rmSync(bin, { recursive: true, force: true });
  });

  it('says "offline" and names the hosts it needs when npm cannot reach the registry', async () => {
    process.env.REGLENS_NPM = fakeNpm(
      'npm-offline',
      "console.error('npm error code ENOTFOUND'); console.error('npm error network request to https://registry.npmjs.org/@tensorflow%2ftfjs-node failed, reason: getaddrinfo ENOTFOUND registry.npmjs.org'); process.exit(1);",
    );
    const result = await vscode.commands.executeCommand<InstallResult>('reglens.installNativeBackend', 'cpu');
    assert.ok(result && !result.ok, JSON.stringify(result));
    assert.match(result.error, /^offline: installing @tensorflow\/tfjs-node needs the npm registry and the libtensorflow binary host \(storage\.googleapis\.com\)/);
    assert.match(result.error, /reglens\.training\.nativeModulePath/);
  });

  it('installs into global storage, where the next run finds it and falls back to wasm with the reason', async () => {
    process.env.REGLENS_NPM = fakeNpm(
      'npm-ok',
      `const fs = require('fs'), path = require('path');
const args = process.argv.slice(2);
const prefix = args[args.indexOf('--prefix') + 1];
const pkg = args[args.length - 1];
const dir = path.join(prefix, 'node_modules', ...pkg.split('/'));
fs.mkdirSync(dir, { recursive: true });
fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: pkg, version: '0.0.0-fake', main: 'index.js' }));
fs.writeFileSync(path.join(dir, 'index.js'), "throw new Error('fake tfjs-node: no libtensorflow here');");
console.log('added 1 package in 0.1s');`,
    );
    const result = await vscode.commands.executeCommand<InstallResult>('reglens.installNativeBackend', 'cpu');
    assert.ok(result?.ok, JSON.stringify(result));
    installedDir = result.dir;
    assert.equal(result.pkg, '@tensorflow/tfjs-node');

    const spec = JSON.parse(readFileSync(workspaceUri('tiny.reglens.json').fsPath, 'utf8'));
    spec.name = 'Native backend fallback';
    spec.backend = 'tensorflow';
    spec.training.epochs = 1;
    await vscode.workspace.fs.writeFile(experiment, Buffer.from(JSON.stringify(spec)));
    const api = await extensionApi<RegLensApi>();
    const runId = await vscode.commands.executeCommand<string>('reglens.runExperiment', experiment);
    assert.equal(typeof runId, 'string');
    const summary = await api.whenRunEnds(runId)!;
    assert.equal(summary.status, 'finished', summary.error);
    const started = readFileSync(path.join(workspaceUri('.reglens/runs').fsPath, runId, 'events.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l))
      .find((e) => e.type === 'started');
    assert.equal(started.backend, 'wasm');
    assert.match(started.backendNote ?? '', /@tensorflow\/tfjs-node unavailable \(.*fake tfjs-node: no libtensorflow here/);
    assert.ok((started.backendNote as string).includes(result.dir), 'the note names the folder it tried');
  });
});
