import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { commandLine, isLaunchedRun, launchEnv, pipInstallCommand, quoteArg } from '../../../src/runs/pythonLaunch';

describe('launching a Python script with the recorder', () => {
  it('quotes paths so a POSIX shell hands them over unchanged', () => {
    const tricky = "/tmp/my dir/it's $HOME `x`.py";
    const line = commandLine(['printf', '%s\\n', tricky, 'plain.py'], 'posix');
    // Run by a real shell: each argument arrives as one, byte for byte.
    const r = spawnSync('/bin/sh', ['-c', line], { encoding: 'utf8' });
    assert.equal(r.stdout, `${tricky}\nplain.py\n`);
    assert.equal(quoteArg('/usr/bin/python3', 'posix'), '/usr/bin/python3');
  });

  it('uses the call operator and doubled single quotes for PowerShell', () => {
    assert.equal(commandLine(["C:\\Program Files\\Py's\\python.exe", 'a.py'], 'powershell'), "& 'C:\\Program Files\\Py''s\\python.exe' 'a.py'");
  });

  it('builds the pip command for the interpreter and the shipped package', () => {
    assert.equal(pipInstallCommand('/opt/venv/bin/python', '/ext/python', 'posix'), '/opt/venv/bin/python -m pip install /ext/python');
  });

  it('puts the package first on PYTHONPATH and names the runs folder and the launch', () => {
    const env = launchEnv('/ext/python', '/ws/.reglens/runs', 'id-1', '/user/lib');
    assert.equal(env.PYTHONPATH, ['/ext/python', '/user/lib'].join(path.delimiter));
    assert.equal(env.REGLENS_RUNS_DIR, '/ws/.reglens/runs');
    assert.equal(env.REGLENS_LAUNCH_ID, 'id-1');
    assert.equal(launchEnv('/ext/python', '/r', 'x', undefined).PYTHONPATH, '/ext/python');
  });

  it('recognises only the recorder run of its own launch', () => {
    assert.equal(isLaunchedRun(JSON.stringify({ source: 'recorder', launch: 'a' }), 'a'), true);
    assert.equal(isLaunchedRun(JSON.stringify({ source: 'recorder', launch: 'b' }), 'a'), false);
    assert.equal(isLaunchedRun(JSON.stringify({ name: 'an experiment', launch: 'a' }), 'a'), false);
    assert.equal(isLaunchedRun('{"source": "recor', 'a'), false);
  });
});
