// "RegLens: Run Python File with RegLens" runs the active Python file in a terminal with
// the shipped recorder importable and REGLENS_RUNS_DIR set, then opens the dashboard of
// the run the script records once its folder appears. "RegLens: Install the Python
// Package" shows (and can run) the pip command that installs the recorder into the
// interpreter the torch engine uses.
import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { isLaunchedRun, launchEnv, commandLine, pipInstallCommand, shellKindFor } from '../../runs/pythonLaunch';
import { SPEC_FILE } from '../../runs/runFolder';
import type { Ctx } from '../ctx';
import type { DashboardPanels } from '../dashboard/dashboardPanels';
import { pythonInterpreterFor } from './pythonInterpreter';
import type { RunManager } from './runManager';

/** How long a launch waits for its script to create a run folder (a script may train a while before reglens.init). */
const LAUNCH_WAIT_MS = 30 * 60_000;
const POLL_MS = 1000;

export interface PythonLaunch {
  launchId: string;
  runsDir: string;
  python: string;
  commandLine: string;
  terminalName: string;
}

async function interpreter(ctx: Ctx, resource: vscode.Uri | undefined): Promise<{ python: string; source: string }> {
  const choice = await pythonInterpreterFor(ctx.config, resource, ctx.output);
  return { python: choice.python ?? (process.platform === 'win32' ? 'python' : 'python3'), source: choice.source };
}

function runsDirFor(ctx: Ctx, file: vscode.Uri): string {
  const folder = vscode.workspace.getWorkspaceFolder(file) ?? vscode.workspace.workspaceFolders?.[0];
  return folder ? ctx.config.runsDirectory(folder.uri).fsPath : path.join(path.dirname(file.fsPath), '.reglens', 'runs');
}

/** Resolves with the run folder the launch's script creates, or undefined when it gives up. */
function waitForLaunchedRun(runsDir: string, launchId: string, until: vscode.CancellationToken): Promise<string | undefined> {
  return new Promise((resolve) => {
    const seen = new Set<string>();
    const disposables: vscode.Disposable[] = [];
    let done = false;
    const finish = (dir: string | undefined) => {
      if (done) return;
      done = true;
      clearInterval(timer);
      clearTimeout(deadline);
      for (const d of disposables) d.dispose();
      resolve(dir);
    };
    const look = async () => {
      let names: string[];
      try {
        names = await fs.readdir(runsDir);
      } catch {
        return; // the folder appears with the first run
      }
      for (const name of names) {
        if (seen.has(name) || done) continue;
        const dir = path.join(runsDir, name);
        const text = await fs.readFile(path.join(dir, SPEC_FILE), 'utf8').catch(() => undefined);
        if (text === undefined) continue; // spec.json follows summary.json: look again
        seen.add(name);
        if (isLaunchedRun(text, launchId)) return finish(dir);
      }
    };
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(runsDir), `*/${SPEC_FILE}`));
    disposables.push(watcher, watcher.onDidCreate(() => void look()), until.onCancellationRequested(() => finish(undefined)));
    // The watcher may miss a folder outside the workspace; the poll does not.
    const timer = setInterval(() => void look(), POLL_MS);
    const deadline = setTimeout(() => finish(undefined), LAUNCH_WAIT_MS);
    void look();
  });
}

export function registerPythonScriptCommands(ctx: Ctx, runs: RunManager, dashboards: DashboardPanels): void {
  ctx.registerCommand('reglens.runPythonFile', async (arg?: unknown): Promise<PythonLaunch | undefined> => {
    const file = arg instanceof vscode.Uri ? arg : vscode.window.activeTextEditor?.document.uri;
    if (!file || file.scheme !== 'file' || !file.fsPath.endsWith('.py')) {
      void vscode.window.showErrorMessage('RegLens: open a Python file (.py) first; "Run Python File with RegLens" runs the active file.');
      return undefined;
    }
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showErrorMessage('RegLens runs a Python file only in a trusted workspace (it executes the workspace\'s code). Trust the workspace first.');
      return undefined;
    }
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === file.toString());
    if (doc?.isDirty) await doc.save();
    const { python, source } = await interpreter(ctx, file);
    const runsDir = runsDirFor(ctx, file);
    const launchId = randomUUID();
    const shell = shellKindFor(process.platform);
    const line = commandLine([python, file.fsPath], shell);
    const terminalName = `RegLens: ${path.basename(file.fsPath)}`;
    const terminal = vscode.window.createTerminal({
      name: terminalName,
      cwd: path.dirname(file.fsPath),
      env: launchEnv(ctx.asAbsolutePath('python'), runsDir, launchId, process.env.PYTHONPATH),
    });
    ctx.output.info(`running ${file.fsPath} with ${python} (${source}); runs go to ${runsDir}`);
    terminal.show(true);
    terminal.sendText(line);
    const stop = new vscode.CancellationTokenSource();
    const closed = vscode.window.onDidCloseTerminal((t) => {
      if (t === terminal) stop.cancel();
    });
    void waitForLaunchedRun(runsDir, launchId, stop.token).then(async (dir) => {
      closed.dispose();
      stop.dispose();
      if (!dir) return;
      const runId = path.basename(dir);
      runs.remember(runId, dir);
      await dashboards.show(runId);
    });
    return { launchId, runsDir, python, commandLine: line, terminalName };
  });

  // `mode` lets tests (and keybindings) skip the message: 'terminal' runs it, 'none' only returns it.
  ctx.registerCommand('reglens.installPythonPackage', async (mode?: unknown): Promise<string> => {
    const { python, source } = await interpreter(ctx, vscode.window.activeTextEditor?.document.uri);
    const line = pipInstallCommand(python, ctx.asAbsolutePath('python'), shellKindFor(process.platform));
    const choice =
      mode === 'terminal' || mode === 'none'
        ? mode
        : await vscode.window.showInformationMessage(
            `Install the RegLens recorder (import reglens) into ${python} (${source === 'default' ? 'python3 on PATH' : `from the ${source}`}): ${line}`,
            'Run in Terminal',
            'Copy Command',
          );
    if (choice === 'Run in Terminal' || choice === 'terminal') {
      const terminal = vscode.window.createTerminal({ name: 'RegLens: pip install' });
      terminal.show();
      terminal.sendText(line);
    } else if (choice === 'Copy Command') await vscode.env.clipboard.writeText(line);
    return line;
  });
}
