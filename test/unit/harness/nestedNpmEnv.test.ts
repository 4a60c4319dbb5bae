// The harness installs Node 24 and code-server with a nested `npm install`. Under `npm test`
// the outer npm exports npm_config_* for its scripts; npm reads those as its own config, so a
// nested npm inherited the outer user agent ("node/v20") and code-server's postinstall refused
// to install. These tests run a real nested npm with the environment the harness passes on.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

type NestedNpmEnv = (env: NodeJS.ProcessEnv) => Record<string, string>;

async function loadNestedNpmEnv(): Promise<NestedNpmEnv> {
  const url = pathToFileURL(join(__dirname, '..', '..', 'harness', 'ensure-deps.mjs')).href;
  const mod = (await import(url)) as { nestedNpmEnv: NestedNpmEnv };
  return mod.nestedNpmEnv;
}

function userAgentSeenByNestedScript(env: NodeJS.ProcessEnv): string {
  const dir = mkdtempSync(join(tmpdir(), 'reglens-npmenv-'));
  try {
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({ name: 'ua-probe', private: true, scripts: { ua: 'node -p process.env.npm_config_user_agent' } }),
    );
    const r = spawnSync('npm', ['run', '--silent', 'ua'], { cwd: dir, env, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trim();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('harness: environment of nested npm installs', function () {
  this.timeout(60_000);
  // What an outer `npm test` run by another Node exports to its scripts.
  const outer: NodeJS.ProcessEnv = {
    ...process.env,
    npm_config_user_agent: 'npm/11.0.0 node/v1.2.3 linux x64 workspaces/false',
    npm_node_execpath: '/nonexistent/node',
    npm_config_prefix: '/nonexistent/prefix',
    npm_lifecycle_event: 'test',
    npm_package_name: 'reglens',
    INIT_CWD: '/nonexistent',
    NODE: '/nonexistent/node',
    NODE_OPTIONS: '--require /nonexistent/hook.js',
  };

  it('an inherited npm environment does leak into a nested npm (the failure being guarded)', () => {
    const { NODE_OPTIONS: _omit, ...withoutHook } = outer;
    assert.match(userAgentSeenByNestedScript(withoutHook), /node\/v1\.2\.3/);
  });

  it('drops every npm_* variable, NODE, INIT_CWD and NODE_OPTIONS, keeps the rest', async () => {
    const nestedNpmEnv = await loadNestedNpmEnv();
    const env = nestedNpmEnv({ ...outer, PATH: '/a:/b', HOME: '/home/x', NPM_TOKEN_LIKE: 'kept?', undefinedVar: undefined });
    for (const k of Object.keys(env)) assert.ok(!k.toLowerCase().startsWith('npm_'), `${k} leaked`);
    for (const k of ['NODE', 'INIT_CWD', 'NODE_OPTIONS']) assert.equal(env[k], undefined, `${k} leaked`);
    assert.equal(env.PATH, '/a:/b');
    assert.equal(env.HOME, '/home/x');
    assert.ok(!('undefinedVar' in env));
  });

  it('a nested npm given that environment reports the Node it really runs under', async () => {
    const nestedNpmEnv = await loadNestedNpmEnv();
    const ua = userAgentSeenByNestedScript(nestedNpmEnv(outer));
    assert.doesNotMatch(ua, /v1\.2\.3/);
    assert.match(ua, new RegExp(`node/${process.version.replace(/\./g, '\\.')}`));
  });
});
