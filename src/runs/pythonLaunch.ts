// Pure helpers for starting a user's Python script with the recorder importable (the
// "Run Python File with RegLens" and "Install the Python Package" commands): the shell
// text a terminal runs, its environment, and how the run folder the script creates is
// recognised as the one that launch started.
import * as path from 'node:path';

export type ShellKind = 'posix' | 'powershell';

export function shellKindFor(platform: NodeJS.Platform): ShellKind {
  return platform === 'win32' ? 'powershell' : 'posix';
}

/** One argument, quoted for the terminal's shell (paths may hold spaces or quotes). */
export function quoteArg(arg: string, shell: ShellKind): string {
  if (shell === 'powershell') return `'${arg.replace(/'/g, "''")}'`;
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** A command line: PowerShell needs the call operator to run a quoted program path. */
export function commandLine(args: string[], shell: ShellKind): string {
  const quoted = args.map((a) => quoteArg(a, shell)).join(' ');
  return shell === 'powershell' ? `& ${quoted}` : quoted;
}

/** `<python> -m pip install <extension>/python`: the recorder into the user's own environment. */
export function pipInstallCommand(python: string, packageDir: string, shell: ShellKind): string {
  return commandLine([python, '-m', 'pip', 'install', packageDir], shell);
}

/**
 * What a launched script's terminal adds to its environment: the shipped package first on
 * PYTHONPATH (no install needed), where runs go, and an id the recorder writes into
 * spec.json (`launch`), so the host opens the dashboard of this launch's run and no other.
 */
export function launchEnv(packageDir: string, runsDir: string, launchId: string, inherited: string | undefined): Record<string, string> {
  return {
    PYTHONPATH: [packageDir, inherited].filter((p): p is string => !!p).join(path.delimiter),
    REGLENS_RUNS_DIR: runsDir,
    REGLENS_LAUNCH_ID: launchId,
    PYTHONUNBUFFERED: '1',
  };
}

/** Whether a spec.json's text is the recorder's for this launch. */
export function isLaunchedRun(specText: string, launchId: string): boolean {
  try {
    const spec = JSON.parse(specText) as { source?: unknown; launch?: unknown };
    return spec.source === 'recorder' && spec.launch === launchId;
  } catch {
    return false; // still being written: the next look decides
  }
}
