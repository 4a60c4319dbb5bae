// A real one-machine Slurm cluster for tests (../shared/RECIPES.md section 4): a munged of its
// own (own socket; AuthInfo=socket=... in slurm.conf), slurmctld and slurmd with a slurm.conf of their own in a scratch
// folder, on free ports, without cgroups (proctrack/linuxproc, task/none). Clients reach it
// through SLURM_CONF, which start() exports into process.env so child processes (the CLI,
// sbatch, squeue, a code-server) inherit it. stop() ends the daemons it started, by pid.
//
// Needs root (SlurmUser=root, munged started as the munge user) and Debian's slurm-wlm and
// munge; slurmAvailable() says why not, so a test can skip with that reason.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';

const SBIN = ['/usr/sbin', '/usr/bin', '/sbin', '/bin'];

function which(cmd) {
  for (const dir of [...(process.env.PATH ?? '').split(':'), ...SBIN]) {
    if (dir && existsSync(join(dir, cmd))) return join(dir, cmd);
  }
  return undefined;
}

/** Why a real Slurm cannot be started here, or undefined when it can. */
export function slurmAvailable() {
  const missing = ['sbatch', 'squeue', 'scancel', 'scontrol', 'sinfo', 'slurmctld', 'slurmd', 'munged', 'munge'].filter((c) => !which(c));
  if (missing.length) return `Slurm is not installed here (${missing.join(', ')} missing; apt-get install slurm-wlm munge, as .ci/run does)`;
  if (process.getuid?.() !== 0) return 'starting slurmctld/slurmd for a test needs root (SlurmUser=root)';
  return undefined;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const pause = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` (sync or async, truthy = done) every `everyMs` until `timeoutMs`. */
async function until(what, probe, { timeoutMs = 30_000, everyMs = 100 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await probe();
      if (last) return last;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
    await pause(everyMs);
  }
}

function mungeWorks(socket) {
  const r = spawnSync('/bin/sh', ['-c', `munge -n --socket='${socket}' | unmunge --socket='${socket}'`], { encoding: 'utf8' });
  return r.status === 0 && /Success/.test(r.stdout);
}

function readPid(file) {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts the cluster. Options: cpus (the node's CPU count as Slurm sees it; more than the
 * machine has is allowed, so tiny tests can run side by side), extraConf (lines appended to
 * slurm.conf), credExpire (seconds a job credential lives, AuthInfo cred_expire: Slurm holds a
 * requeued job back that long before it may start again; the default 120 s would make a requeue
 * test wait two minutes). Resolves with { conf, dir, env, node, partition, stop() } once sinfo shows
 * the node idle.
 */
export async function startSlurm({ cpus = 4, extraConf = [], credExpire = 20 } = {}) {
  const why = slurmAvailable();
  if (why) throw new Error(why);
  const dir = mkdtempSync(join(tmpdir(), 'reglens-slurm-'));
  const node = hostname().split('.')[0];
  const started = []; // { name, pidFile | pid }
  // A munged of its own (own socket, pid and log in the scratch folder, the system key): two
  // suites on one machine (two worktrees, or CI next to a developer) never share or stop one.
  chmodSync(dir, 0o755);
  const mungeDir = join(dir, 'munge');
  mkdirSync(mungeDir);
  const socket = join(mungeDir, 'munge.socket');
  const mungePidFile = join(mungeDir, 'munged.pid');
  // Debian's postinst writes /etc/munge/munge.key; without one, a key just for this cluster.
  if (existsSync('/etc/munge/munge.key')) copyFileSync('/etc/munge/munge.key', join(mungeDir, 'munge.key'));
  else execFileSync('mungekey', ['--create', `--keyfile=${join(mungeDir, 'munge.key')}`]);
  execFileSync('chown', ['-R', 'munge:munge', mungeDir]);
  // munged wants its socket's folder traversable by all and its key readable by itself only.
  chmodSync(mungeDir, 0o755);
  chmodSync(join(mungeDir, 'munge.key'), 0o400);
  try {
    execFileSync('su', [
    '-s',
    '/bin/sh',
    'munge',
    '-c',
    [`/usr/sbin/munged`, `--socket=${socket}`, `--pid-file=${mungePidFile}`, `--log-file=${join(mungeDir, 'munged.log')}`, `--seed-file=${join(mungeDir, 'munged.seed')}`, `--key-file=${join(mungeDir, 'munge.key')}`].join(' '),
  ]);
    started.push({ name: 'munged', pidFile: mungePidFile });
    await until('munged to answer (munge -n | unmunge)', () => mungeWorks(socket), { timeoutMs: 15_000 });
  } catch (err) {
    const pid = readPid(mungePidFile);
    if (pid !== undefined) process.kill(pid, 'SIGTERM');
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`could not start munged for the test cluster: ${err.message}`);
  }
  const [ctldPort, slurmdPort] = [await freePort(), await freePort()];
  const conf = join(dir, 'slurm.conf');
  for (const sub of ['state', 'spool']) mkdirSync(join(dir, sub));
  const lines = [
    'ClusterName=reglens-test',
    `SlurmctldHost=${node}`,
    'SlurmUser=root',
    'SlurmdUser=root',
    `SlurmctldPort=${ctldPort}`,
    `SlurmdPort=${slurmdPort}`,
    'AuthType=auth/munge',
    `AuthInfo=socket=${socket},cred_expire=${credExpire}`,
    `StateSaveLocation=${join(dir, 'state')}`,
    `SlurmdSpoolDir=${join(dir, 'spool')}`,
    `SlurmctldPidFile=${join(dir, 'slurmctld.pid')}`,
    `SlurmdPidFile=${join(dir, 'slurmd.pid')}`,
    `SlurmctldLogFile=${join(dir, 'slurmctld.log')}`,
    `SlurmdLogFile=${join(dir, 'slurmd.log')}`,
    'ProctrackType=proctrack/linuxproc',
    'TaskPlugin=task/none',
    'SelectType=select/cons_tres',
    'SelectTypeParameters=CR_Core',
    // The node's CPU count is the conf's, not the machine's: tiny test tasks may share a core.
    'SlurmdParameters=config_overrides',
    'ReturnToService=2',
    'MpiDefault=none',
    'SwitchType=switch/none',
    'JobCompType=jobcomp/none',
    'AccountingStorageType=accounting_storage/none',
    'JobAcctGatherType=jobacct_gather/none',
    // Ended jobs stay in squeue -t all (no accounting database here) long enough to be read.
    'MinJobAge=3600',
    // A job past its time limit is killed at once, and a killed task gets little grace.
    'OverTimeLimit=0',
    'KillWait=5',
    'SchedulerParameters=sched_interval=1',
    'JobRequeue=1',
    `NodeName=${node} CPUs=${cpus} RealMemory=8000 State=UNKNOWN`,
    `PartitionName=test Nodes=${node} Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO`,
    ...extraConf,
  ];
  writeFileSync(conf, lines.join('\n') + '\n');
  const env = { SLURM_CONF: conf };
  Object.assign(process.env, env);
  const clientEnv = { ...process.env, ...env };

  const stop = async () => {
    // Jobs first (while the controller still answers), so no task outlives the cluster.
    if (started.some((d) => d.name === 'slurmd')) {
      spawnSync('scancel', ['--full', '--user=root'], { env: clientEnv });
      await until(
        'the jobs to end',
        () => !/\b(RUNNING|COMPLETING|PENDING|CONFIGURING)\b/.test(spawnSync('squeue', ['-h', '-o', '%T'], { env: clientEnv, encoding: 'utf8' }).stdout ?? ''),
        { timeoutMs: 30_000 },
      ).catch(() => undefined);
    }
    for (const d of started.reverse()) {
      const pid = d.pid ?? readPid(d.pidFile);
      if (pid === undefined || !alive(pid)) continue;
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        continue;
      }
      await until(`${d.name} (pid ${pid}) to exit`, () => !alive(pid), { timeoutMs: 20_000 }).catch(() => process.kill(pid, 'SIGKILL'));
    }
    started.length = 0;
    if (process.env.SLURM_CONF === conf) delete process.env.SLURM_CONF;
    if (!process.env.REGLENS_KEEP_SLURM) rmSync(dir, { recursive: true, force: true });
  };

  try {
    // Daemonizing: each returns once its pid file is written.
    execFileSync(which('slurmctld'), ['-f', conf], { env: clientEnv, stdio: 'pipe' });
    started.push({ name: 'slurmctld', pidFile: join(dir, 'slurmctld.pid') });
    await until('slurmctld to answer (scontrol ping)', () => /UP/.test(spawnSync('scontrol', ['ping'], { env: clientEnv, encoding: 'utf8' }).stdout ?? ''), { timeoutMs: 20_000 });
    execFileSync(which('slurmd'), ['-f', conf], { env: clientEnv, stdio: 'pipe' });
    started.push({ name: 'slurmd', pidFile: join(dir, 'slurmd.pid') });
    await until(
      `node ${node} idle in sinfo`,
      () => spawnSync('sinfo', ['-h', '-N', '-o', '%T'], { env: clientEnv, encoding: 'utf8' }).stdout?.trim() === 'idle',
      { timeoutMs: 30_000 },
    );
  } catch (err) {
    const log = (f) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8').slice(-2000) : '(no log)');
    const logs = `slurmctld.log:\n${log('slurmctld.log')}\nslurmd.log:\n${log('slurmd.log')}`;
    await stop();
    throw new Error(`${err.message}\n${logs}`);
  }
  return { conf, dir, env, node, partition: 'test', cpus, stop };
}
