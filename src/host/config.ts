// Typed access to RegLens settings. Each getter reads the live configuration, so a
// changed setting applies at once; nothing is cached in module state.
import * as vscode from 'vscode';
import { RULE_SETTING_KEYS } from '../analysis/rules/ruleCatalog';
import type { EvalThreadChoice } from '../protocol/engineMessages';
import type { BackendName, DeviceName } from '../protocol/experiment';

export type SeveritySetting = 'error' | 'warning' | 'information' | 'hint' | 'off';

export class Config {
  static readonly section = 'reglens';

  private get cfg(): vscode.WorkspaceConfiguration {
    return vscode.workspace.getConfiguration(Config.section);
  }

  get trainingBackend(): BackendName {
    return this.cfg.get<BackendName>('training.backend', 'auto');
  }

  /** PyTorch device for the torch backend (and torch under auto): auto, cuda, mps, cpu. */
  get trainingDevice(): DeviceName {
    return this.cfg.get<DeviceName>('training.device', 'auto');
  }

  /**
   * Python interpreter for the torch engine as set for this workspace folder ('' when unset:
   * then the Python extension's interpreter, else python3). In an untrusted workspace VS Code
   * ignores the workspace's value (package.json restrictedConfigurations).
   */
  pythonInterpreter(folder: vscode.Uri | undefined): string {
    return vscode.workspace.getConfiguration(Config.section, folder).get<string>('python.interpreter', '').trim();
  }

  /** Folder holding (node_modules of) @tensorflow/tfjs-node(-gpu), searched first; '' when unset. */
  get nativeModulePath(): string {
    return this.cfg.get<string>('training.nativeModulePath', '').trim();
  }

  /** Whether the engine evaluates each epoch on a second thread (wasm): auto, on, off. */
  get evaluationThread(): EvalThreadChoice {
    return this.cfg.get<EvalThreadChoice>('training.evaluationThread', 'auto');
  }

  /** Sweep runs training at once; 0 means one per CPU core (resolved by resolveParallelism). */
  get parallelRuns(): number {
    return this.cfg.get<number>('training.parallelRuns', 0);
  }

  /** Where sweep members run: here (local) or as one Slurm array job (slurm). */
  get sweepsExecutor(): 'local' | 'slurm' {
    return this.cfg.get<string>('sweeps.executor', 'local') === 'slurm' ? 'slurm' : 'local';
  }

  /** Default Slurm partition for sweep members; '' = the cluster's default. */
  get slurmPartition(): string {
    return this.cfg.get<string>('sweeps.slurm.partition', '').trim();
  }

  /** Default time limit per member (sbatch --time); '' = the partition's. */
  get slurmTime(): string {
    return this.cfg.get<string>('sweeps.slurm.time', '').trim();
  }

  /** CPUs per member; 0 = Slurm's default. */
  get slurmCpusPerTask(): number {
    return this.cfg.get<number>('sweeps.slurm.cpusPerTask', 0);
  }

  /** GPUs per member (--gres=gpu:N); 0 = none. */
  get slurmGpusPerTask(): number {
    return this.cfg.get<number>('sweeps.slurm.gpusPerTask', 0);
  }

  /** Memory per member (sbatch --mem); '' = Slurm's default. */
  get slurmMem(): string {
    return this.cfg.get<string>('sweeps.slurm.mem', '').trim();
  }

  /** Slurm account; '' = the user's default. */
  get slurmAccount(): string {
    return this.cfg.get<string>('sweeps.slurm.account', '').trim();
  }

  /** More sbatch options, one per item. */
  get slurmExtraSbatch(): string[] {
    return this.cfg.get<string[]>('sweeps.slurm.extraSbatch', []).filter((x) => typeof x === 'string' && x.trim()).map((x) => x.trim());
  }

  /** Most members at once; 0 = no limit but the cluster's. */
  get slurmMaxConcurrent(): number {
    return this.cfg.get<number>('sweeps.slurm.maxConcurrent', 0);
  }

  /** Runs folder for a workspace folder (absolute). */
  runsDirectory(folder: vscode.Uri): vscode.Uri {
    const rel = vscode.workspace.getConfiguration(Config.section, folder).get<string>('runs.directory', '.reglens/runs');
    return vscode.Uri.joinPath(folder, rel);
  }

  /** Whether diagnostics follow imports into the other files of the workspace (the workspace index). */
  get workspaceIndexEnabled(): boolean {
    return this.cfg.get<boolean>('workspaceIndex.enabled', true);
  }

  /** Python files the workspace index reads at most (the first ones findFiles returns). */
  get workspaceIndexMaxFiles(): number {
    return Math.max(0, this.cfg.get<number>('workspaceIndex.maxFiles', 5000));
  }

  /** Notify when a run started in this window finishes or is stopped (failures are always shown). */
  get notifyRunEnded(): boolean {
    return this.cfg.get<boolean>('notifications.runEnded', true);
  }

  get diagnosticsEnabled(): boolean {
    return this.cfg.get<boolean>('diagnostics.enabled', true);
  }

  get codeLensEnabled(): boolean {
    return this.cfg.get<boolean>('codeLens.enabled', true);
  }

  /** Output width from which a dense layer without regularization is reported. */
  get largeDenseHeadThreshold(): number {
    return this.cfg.get<number>('diagnostics.largeDenseHeadThreshold', 1024);
  }

  /** Severity for a rule id such as 'dropout-before-batchnorm'; rules without a setting keep their default. */
  ruleSeverity(ruleId: string, fallback: SeveritySetting): SeveritySetting {
    const key = ruleSeverityKeys[ruleId];
    return key ? this.cfg.get<SeveritySetting>(key, fallback) : fallback;
  }

  /** True when a configuration change touches a setting of ours under `sub`. */
  static affects(e: vscode.ConfigurationChangeEvent, sub: string): boolean {
    return e.affectsConfiguration(`${Config.section}.${sub}`);
  }
}

/** Rule id -> its severity setting under `reglens.` (declared in package.json). */
const ruleSeverityKeys: Record<string, string> = { ...RULE_SETTING_KEYS };
