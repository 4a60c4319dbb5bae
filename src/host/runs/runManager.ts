// Owns run state in the extension host: starts engine child processes, appends every
// event to the run folder as it arrives (so a crash loses nothing already reported),
// relays events to dashboards, and answers "what runs exist" for the tree view.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { EngineEvent, EvalThreadChoice } from '../../protocol/engineMessages';
import type { Experiment } from '../../protocol/experiment';
import type { RunView } from '../../protocol/webviewMessages';
import { startEngine, type EngineHandle } from '../../runs/engineProcess';
import { RunFolder, configuredProbes, listRuns, readRun, readRunView, readSpec, type RunStatus, type RunSummary } from '../../runs/runFolder';
import type { Ctx } from '../ctx';
import { pythonInterpreterFor } from './pythonInterpreter';

export interface LiveRun {
  readonly id: string;
  readonly dir: string;
  readonly name: string;
  readonly totalEpochs: number;
  readonly startedAt: string;
  readonly events: EngineEvent[];
  status: RunStatus;
  error?: string;
  readonly handle: EngineHandle;
  /** The experiment as started (what spec.json holds). */
  readonly experiment: Experiment;
  readonly ended: Promise<RunSummary>;
}

export type RunChange =
  | { kind: 'events'; runId: string; events: EngineEvent[] }
  | { kind: 'status'; runId: string; status: RunStatus; error?: string };

export class RunManager implements vscode.Disposable {
  private readonly live = new Map<string, LiveRun>();
  /** Run id -> folder, for every run seen (live or listed), so dashboards can find it. */
  private readonly known = new Map<string, string>();
  private readonly changeEmitter = new vscode.EventEmitter<RunChange>();
  readonly onDidChange = this.changeEmitter.event;

  constructor(private readonly ctx: Ctx) {}

  liveRun(id: string): LiveRun | undefined {
    return this.live.get(id);
  }

  runningRuns(): LiveRun[] {
    return [...this.live.values()].filter((r) => r.status === 'running');
  }

  async start(experiment: Experiment, runsDir: string, experimentFile: string | undefined, overrides: { evalThread?: EvalThreadChoice } = {}): Promise<LiveRun> {
    // A model module is workspace code the engine executes: never in an untrusted workspace,
    // whichever path (command, rerun, API) got here.
    if (experiment.model.module && !vscode.workspace.isTrusted) {
      throw new Error(
        `model.module (${experiment.model.module.path}) runs JavaScript from this workspace; RegLens loads model modules only in a trusted workspace. Trust the workspace, or use model.layers / model.topology.`,
      );
    }
    const pytorch = experiment.model.pytorch;
    if (pytorch && !vscode.workspace.isTrusted) {
      throw new Error(
        `model.pytorch (${pytorch.class} in ${pytorch.file}) runs Python code from this workspace; RegLens imports it only in a trusted workspace. Trust the workspace, or use model.layers / model.topology.`,
      );
    }
    const backend = experiment.backend ?? this.ctx.config.trainingBackend;
    if (backend === 'torch' && !vscode.workspace.isTrusted) {
      throw new Error('backend "torch" runs a Python interpreter, which RegLens starts only in a trusted workspace. Trust the workspace, or use backend "auto" or "wasm".');
    }
    // Only asked when torch may train it: activating the Python extension takes time.
    const mayUseTorch = (backend === 'torch' || backend === 'auto') && !experiment.model.module;
    const resource = experimentFile ? vscode.Uri.file(experimentFile) : undefined;
    const interpreter = mayUseTorch ? await pythonInterpreterFor(this.ctx.config, resource, this.ctx.output) : undefined;
    const folder = await RunFolder.create(runsDir, experiment, { experimentFile });
    if (interpreter?.python) this.ctx.output.info(`run ${folder.id}: Python for the torch engine: ${interpreter.python} (${interpreter.source})`);
    const events: EngineEvent[] = [];
    let writeError: string | undefined;
    // Appends are chained inside RunFolder; we keep the last promise so finish() runs after them.
    let pending: Promise<void> = Promise.resolve();

    const handle = startEngine({
      enginePath: this.ctx.asAbsolutePath('dist/engine.js'),
      experiment,
      backend,
      device: experiment.device ?? this.ctx.config.trainingDevice,
      ...(interpreter?.python ? { python: interpreter.python } : {}),
      nativeModuleDirs: this.nativeModuleDirs(),
      // Relative dataset / topology / module paths: the experiment file's folder (else the workspace's).
      baseDir: experimentFile ? path.dirname(experimentFile) : vscode.workspace.workspaceFolders?.[0]?.uri.fsPath,
      runDir: folder.dir,
      evalThread: overrides.evalThread ?? this.ctx.config.evaluationThread,
      onEvent: (event) => {
        events.push(event);
        pending = pending
          .then(() => folder.append(event))
          .catch((err: Error) => {
            if (!writeError) {
              writeError = err.message;
              void vscode.window.showErrorMessage(`RegLens could not write run ${folder.id} to ${folder.dir}: ${err.message}`);
            }
          });
        this.changeEmitter.fire({ kind: 'events', runId: folder.id, events: [event] });
      },
      onStderr: (text) => this.ctx.output.debug(`[engine ${folder.id}] ${text.trimEnd()}`),
    });

    const run: LiveRun = {
      id: folder.id,
      dir: folder.dir,
      name: experiment.name,
      experiment,
      totalEpochs: experiment.training.epochs,
      startedAt: new Date().toISOString(),
      events,
      status: 'running',
      handle,
      ended: handle.done.then(async ({ outcome, code, signal }) => {
        await pending;
        const failed = events.find((e) => e.type === 'failed');
        const error =
          outcome === 'failed' && failed?.type === 'failed'
            ? failed.message
            : outcome === 'died'
              ? `The engine process exited unexpectedly (${signal ? `signal ${signal}` : `exit code ${code}`}).`
              : writeError;
        run.status = outcome;
        run.error = error;
        this.changeEmitter.fire({ kind: 'status', runId: run.id, status: outcome, error });
        this.ctx.output.info(`run ${run.id} ${outcome}${error ? `: ${error}` : ''}`);
        try {
          return await folder.finish(outcome, error);
        } catch (err) {
          void vscode.window.showErrorMessage(`RegLens could not write the summary of run ${run.id}: ${(err as Error).message}`);
          return { ...folder.summary(), status: outcome, error };
        }
      }),
    };
    this.live.set(run.id, run);
    this.known.set(run.id, run.dir);
    this.changeEmitter.fire({ kind: 'status', runId: run.id, status: 'running' });
    this.ctx.output.info(`run ${run.id} started (${experiment.name}) in ${run.dir}`);
    return run;
  }

  /** Native-backend search order: the configured path, each workspace folder, the extension's global storage (where Install Native Backend puts it). */
  nativeModuleDirs(): string[] {
    const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath);
    const configured = this.ctx.config.nativeModulePath;
    return [
      ...(configured ? [folders[0] ? path.resolve(folders[0], configured) : configured] : []),
      ...folders,
      this.ctx.extension.globalStorageUri.fsPath,
    ];
  }

  cancel(id: string): boolean {
    const run = this.live.get(id);
    if (!run || run.status !== 'running') return false;
    run.handle.cancel();
    return true;
  }

  /** Every run in the runs folders of the workspace, newest first. */
  async list(runsDirs: string[]): Promise<RunSummary[]> {
    const all: RunSummary[] = [];
    for (const dir of runsDirs) {
      for (const s of await listRuns(dir)) {
        const live = this.live.get(s.id);
        // The host is the authority for runs it owns: the file may lag by one write.
        all.push(live ? { ...s, status: live.status, epochs: epochsOf(live.events) } : s);
        this.known.set(s.id, path.join(dir, s.id));
      }
    }
    return all.sort((a, b) => (a.id < b.id ? 1 : -1));
  }

  folderOf(id: string): string | undefined {
    return this.known.get(id);
  }

  remember(id: string, dir: string): void {
    this.known.set(id, dir);
  }

  /** Starts the run's recorded experiment (spec.json) again, in the same runs folder. */
  async rerun(id: string): Promise<LiveRun> {
    const dir = this.known.get(id);
    if (!dir) throw new Error(`run ${id} is not known`);
    const r = await readRun(dir);
    if (!r.experiment) throw new Error(`run ${id} has no readable spec.json to rerun`);
    return this.start(r.experiment, path.dirname(dir), r.summary.experimentFile);
  }

  /** Deletes a run folder from disk. A running run must be stopped first. */
  async delete(id: string): Promise<void> {
    if (this.live.get(id)?.status === 'running') throw new Error(`run ${id} is still running; stop it first`);
    const dir = this.known.get(id);
    if (!dir) throw new Error(`run ${id} is not known`);
    await fs.rm(dir, { recursive: true, force: true });
    this.known.delete(id);
    this.live.delete(id);
  }

  /** The full state a dashboard needs: live runs from memory, finished ones from disk. */
  async view(id: string): Promise<RunView | undefined> {
    const live = this.liveView(id);
    if (live) return live;
    const dir = this.known.get(id);
    return dir ? readRunView(dir) : undefined;
  }

  /** A run's spec: from memory for live runs, else its spec.json. */
  async spec(id: string): Promise<Experiment | undefined> {
    const live = this.live.get(id);
    if (live) return live.experiment;
    const dir = this.known.get(id);
    return dir ? readSpec(dir) : undefined;
  }

  /** The newest run started in this window (running or ended), if any. */
  newestLiveRun(): LiveRun | undefined {
    return [...this.live.values()].pop();
  }

  /** The dashboard state of a run started in this window, from memory (synchronous). */
  liveView(id: string): RunView | undefined {
    const live = this.live.get(id);
    if (live) {
      return {
        id,
        name: live.name,
        status: live.status,
        totalEpochs: live.totalEpochs,
        startedAt: live.startedAt,
        error: live.error,
        probes: configuredProbes(live.experiment),
        events: [...live.events],
      };
    }
    return undefined;
  }

  dispose(): void {
    for (const run of this.live.values()) if (run.status === 'running') run.handle.cancel();
    this.changeEmitter.dispose();
  }
}

function epochsOf(events: EngineEvent[]): number {
  let n = 0;
  for (const e of events) if (e.type === 'epoch') n = e.epoch;
  return n;
}
