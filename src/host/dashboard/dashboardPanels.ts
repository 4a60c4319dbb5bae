// Dashboard panels: one per run, plus compare panels that overlay several runs. The host
// owns run state: a panel gets a snapshot when its webview says `ready` and increments
// after that. Panels survive a window reload through WebviewPanelSerializers, which read
// the run id(s) the webview saved with setState.
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  CompareStateSchema,
  DashboardStateSchema,
  parseWebviewToHost,
  type HostToWebview,
  type RunView,
  type WebviewToHost,
} from '../../protocol/webviewMessages';
import type { Ctx } from '../ctx';
import type { RunManager } from '../runs/runManager';
import { differenceText, differingFields, runLabels, type DifferingField } from '../../runs/runNaming';
import { probePair, probeVerdict, type VerdictOutcome } from '../../runs/probeVerdict';
import { revealPath } from '../reveal';
import { dashboardHtml } from './dashboardHtml';
import { RunFollower } from './runFollower';

export const dashboardViewType = 'reglens.dashboard';
export const compareViewType = 'reglens.compare';

interface OpenPanel {
  panel: vscode.WebviewPanel;
  runIds: string[];
  kind: 'run' | 'compare';
  /** Resolves once the page has loaded and been sent its snapshot (requests before that would be lost). */
  ready: Promise<void>;
  markReady(): void;
  /** Set while the panel follows a run another process writes. */
  follower?: RunFollower;
}

/** Where "Export Report" and "Save PNG" write; tests pass a target and skip the dialog. */
export type SaveTarget = vscode.Uri | undefined;

export class DashboardPanels implements vscode.Disposable {
  private readonly panels = new Map<string, vscode.WebviewPanel>();
  private readonly open = new Set<OpenPanel>();
  private readonly disposables: vscode.Disposable[] = [];
  private readonly pngRequests = new Map<string, { resolve: (dataUrl: string) => void; timer: NodeJS.Timeout }>();
  /** Epochs sent to the dashboards of followed runs (snapshot and increments), for tests. */
  private readonly followed = new Map<string, number[]>();
  /** Compare panel (run ids joined) -> the details last sent, for tests. */
  private readonly lastCompareDetails = new Map<string, { differences: DifferingField[]; verdict?: { text: string; outcome: VerdictOutcome } }>();
  /** Set by "Export Report" from the webview: how to export a run (registered by the export feature). */
  exportReport: ((runId: string) => Promise<unknown>) | undefined;
  /** "Save Pruned Model…" from the webview: asks for a folder and copies the model (export feature). */
  savePrunedModel: ((runId: string) => Promise<unknown>) | undefined;
  /** The label-error actions of the dashboard (registered by labelErrorCommands.ts). */
  exportLabelErrors: ((runId: string, method: string) => Promise<unknown>) | undefined;
  retrainLabelErrors: ((runId: string, method: string, k: number, mode: 'exclude' | 'relabel') => Promise<unknown>) | undefined;

  constructor(
    private readonly ctx: Ctx,
    private readonly runs: RunManager,
  ) {
    this.disposables.push(
      runs.onDidChange((change) => {
        const msg: HostToWebview =
          change.kind === 'events'
            ? { type: 'events', runId: change.runId, events: change.events }
            : { type: 'status', runId: change.runId, status: change.status, error: change.error };
        for (const p of this.open) if (p.runIds.includes(change.runId)) void p.panel.webview.postMessage(msg);
        // A compared run ended: its final numbers may decide the verdict.
        if (change.kind === 'status' && change.status !== 'running') {
          for (const p of this.open) if (p.kind === 'compare' && p.runIds.includes(change.runId)) void this.resendCompareDetails(p);
        }
      }),
      vscode.window.registerWebviewPanelSerializer(dashboardViewType, {
        deserializeWebviewPanel: async (panel, state: unknown) => {
          const parsed = DashboardStateSchema.safeParse(state);
          if (!parsed.success) {
            panel.dispose();
            return;
          }
          await this.findRuns([parsed.data.runId]);
          this.attach(panel, [parsed.data.runId], 'run');
        },
      }),
      vscode.window.registerWebviewPanelSerializer(compareViewType, {
        deserializeWebviewPanel: async (panel, state: unknown) => {
          const parsed = CompareStateSchema.safeParse(state);
          if (!parsed.success) {
            panel.dispose();
            return;
          }
          await this.findRuns(parsed.data.runIds);
          this.attach(panel, parsed.data.runIds, 'compare');
        },
      }),
    );
  }

  /** Test hook and status query: the run ids that have an open dashboard. */
  openRunIds(): string[] {
    return [...this.panels.keys()];
  }

  /** Test hook: the epochs a followed run's dashboard was sent so far, in order. */
  followedEpochs(runId: string): number[] {
    return [...(this.followed.get(runId) ?? [])];
  }

  /** Test hook: the run ids of each open compare panel. */
  openCompares(): string[][] {
    return [...this.open].filter((p) => p.kind === 'compare').map((p) => [...p.runIds]);
  }

  /** The run of the focused dashboard, if a dashboard is focused. */
  activeRunId(): string | undefined {
    for (const p of this.open) if (p.kind === 'run' && p.panel.active) return p.runIds[0];
    return undefined;
  }

  async show(runId: string): Promise<void> {
    const existing = this.panels.get(runId);
    if (existing) {
      existing.reveal();
      return;
    }
    await this.findRuns([runId]);
    const view = await this.runs.view(runId);
    const panel = vscode.window.createWebviewPanel(
      dashboardViewType,
      view ? await this.runTitle(view) : `RegLens: ${runId}`,
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
      this.webviewOptions(),
    );
    this.attach(panel, [runId], 'run');
  }

  async showCompare(runIds: string[]): Promise<void> {
    const key = [...runIds].sort().join(',');
    for (const p of this.open) {
      if (p.kind === 'compare' && [...p.runIds].sort().join(',') === key) {
        p.panel.reveal();
        return;
      }
    }
    await this.findRuns(runIds);
    const panel = vscode.window.createWebviewPanel(
      compareViewType,
      `RegLens: Compare ${runIds.length} runs`,
      { viewColumn: vscode.ViewColumn.Active, preserveFocus: false },
      this.webviewOptions(),
    );
    this.attach(panel, runIds, 'compare');
  }

  /**
   * Asks the run's dashboard for a chart as PNG and writes it to `target` (or asks where).
   * Resolves with the file written, or undefined when cancelled.
   */
  async exportChartPng(runId: string, chart: string, target: SaveTarget): Promise<vscode.Uri | undefined> {
    const panel = this.panels.get(runId);
    const entry = [...this.open].find((p) => p.panel === panel);
    if (!panel || !entry) throw new Error(`run ${runId} has no open dashboard`);
    await Promise.race([entry.ready, new Promise((r) => setTimeout(r, 15_000))]);
    const requestId = randomUUID();
    const dataUrl = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pngRequests.delete(requestId);
        reject(new Error(`the dashboard did not answer with chart '${chart}' (is that section showing data?)`));
      }, 15_000);
      this.pngRequests.set(requestId, { resolve, timer });
      const msg: HostToWebview = { type: 'requestPng', requestId, chart };
      void panel.webview.postMessage(msg);
    });
    return this.writePng(runId, chart, dataUrl, target);
  }

  private async writePng(runId: string | undefined, chart: string, dataUrl: string, target: SaveTarget): Promise<vscode.Uri | undefined> {
    const dir = runId ? this.runs.folderOf(runId) : undefined;
    const uri =
      target ??
      (await vscode.window.showSaveDialog({
        title: `Save chart ${chart} as PNG`,
        defaultUri: vscode.Uri.file(path.join(dir ?? (vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '.'), `${chart}.png`)),
        filters: { 'PNG image': ['png'] },
      }));
    if (!uri) return undefined;
    const bytes = Buffer.from(dataUrl.slice(dataUrl.indexOf(',') + 1), 'base64');
    await vscode.workspace.fs.writeFile(uri, bytes);
    if (!target) void vscode.window.showInformationMessage(`Saved ${path.basename(uri.fsPath)} (${Math.round(bytes.length / 1024)} KB).`);
    return uri;
  }

  private webviewOptions(): vscode.WebviewOptions & vscode.WebviewPanelOptions {
    return {
      enableScripts: true,
      // Only the bundle folder: the webview can load nothing else from disk.
      localResourceRoots: [vscode.Uri.joinPath(this.ctx.extension.extensionUri, 'dist', 'webview')],
    };
  }

  private attach(panel: vscode.WebviewPanel, runIds: string[], kind: OpenPanel['kind']): void {
    let markReady = () => {};
    const ready = new Promise<void>((resolve) => (markReady = resolve));
    const entry: OpenPanel = { panel, runIds, kind, ready, markReady: () => markReady() };
    this.open.add(entry);
    if (kind === 'run') this.panels.set(runIds[0], panel);
    panel.webview.options = this.webviewOptions();
    panel.iconPath = vscode.Uri.joinPath(this.ctx.extension.extensionUri, 'media', 'reglens.svg');
    panel.webview.html = dashboardHtml(panel.webview, this.ctx.extension.extensionUri, panel.title);
    const subs: vscode.Disposable[] = [];
    subs.push(
      panel.webview.onDidReceiveMessage(async (raw: unknown) => {
        const msg = parseWebviewToHost(raw);
        if (!msg) {
          this.ctx.output.warn(`ignored a malformed message from the dashboard: ${JSON.stringify(raw)?.slice(0, 200)}`);
          return;
        }
        try {
          await this.onMessage(entry, msg);
        } catch (err) {
          void vscode.window.showErrorMessage(`RegLens: ${(err as Error).message}`);
        }
      }),
      panel.onDidDispose(() => {
        this.open.delete(entry);
        entry.follower?.dispose();
        if (kind === 'run' && this.panels.get(runIds[0]) === panel) this.panels.delete(runIds[0]);
        for (const s of subs) s.dispose();
      }),
    );
  }

  /** A message for the panel of `runId` (a run dashboard, else a compare showing it), through the same validation as the webview's. */
  async receive(runId: string, raw: unknown): Promise<unknown> {
    const entry = [...this.open].find((p) => p.kind === 'run' && p.runIds[0] === runId) ?? [...this.open].find((p) => p.runIds.includes(runId));
    if (!entry) throw new Error(`run ${runId} has no open panel`);
    const msg = parseWebviewToHost(raw);
    if (!msg) throw new Error(`not a valid dashboard message: ${JSON.stringify(raw)?.slice(0, 200)}`);
    return this.onMessage(entry, msg);
  }

  private async onMessage(entry: OpenPanel, msg: WebviewToHost): Promise<unknown> {
    const { runIds } = entry;
    // A page may only act on the runs it shows.
    const owns = (id: string) => runIds.includes(id);
    switch (msg.type) {
      case 'ready':
        await this.sendSnapshot(entry);
        entry.markReady();
        break;
      case 'stop':
        if (owns(msg.runId)) this.runs.cancel(msg.runId);
        break;
      case 'revealFolder': {
        const dir = owns(msg.runId) ? this.runs.folderOf(msg.runId) : undefined;
        if (dir) return revealPath(vscode.Uri.file(dir), this.ctx);
        void vscode.window.showErrorMessage(`RegLens: the folder of run ${msg.runId} is not known in this window.`);
        return undefined;
      }
      case 'openRun':
        if (owns(msg.runId)) await this.show(msg.runId);
        break;
      case 'savePng': {
        const pending = msg.requestId ? this.pngRequests.get(msg.requestId) : undefined;
        if (pending && msg.requestId) {
          clearTimeout(pending.timer);
          this.pngRequests.delete(msg.requestId);
          pending.resolve(msg.dataUrl);
        } else await this.writePng(runIds.length === 1 ? runIds[0] : undefined, msg.chart, msg.dataUrl, undefined);
        break;
      }
      case 'savePrunedModel':
        if (owns(msg.runId)) await (this.savePrunedModel ?? (() => vscode.commands.executeCommand('reglens.savePrunedModel', msg.runId)))(msg.runId);
        break;
      case 'exportReport':
        if (owns(msg.runId)) await (this.exportReport ?? (() => vscode.commands.executeCommand('reglens.exportReport', msg.runId)))(msg.runId);
        break;
      case 'exportLabelErrors':
        if (owns(msg.runId)) await this.exportLabelErrors?.(msg.runId, msg.method);
        break;
      case 'retrainLabelErrors':
        if (owns(msg.runId)) await this.retrainLabelErrors?.(msg.runId, msg.method, msg.k, msg.mode);
        break;
    }
  }

  private async sendSnapshot(entry: OpenPanel): Promise<void> {
    const { panel, runIds, kind } = entry;
    const views = (await Promise.all(runIds.map((id) => this.runs.view(id)))).filter((v): v is RunView => v !== undefined);
    let reply: HostToWebview;
    if (kind === 'run') {
      const view = views[0];
      if (view) await this.follow(entry, view);
      reply = view ? { type: 'snapshot', run: view } : { type: 'missing', runId: runIds[0], message: `Run ${runIds[0]} is no longer on disk.` };
      if (view) panel.title = await this.runTitle(view);
    } else {
      const details = views.length ? await this.compareDetails(views) : undefined;
      if (details) this.lastCompareDetails.set(runIds.join(','), details);
      reply = views.length
        ? { type: 'compare', runs: views, ...details }
        : { type: 'missing', runId: runIds[0], message: 'None of the compared runs is on disk any more.' };
      if (views.length) panel.title = `RegLens: Compare ${views.map((v) => v.name).join(' vs ')}`.slice(0, 80);
    }
    void panel.webview.postMessage(reply);
  }

  /**
   * A run dashboard's tab title: "RegLens: weightDecay=0 · <name>" when other runs of its
   * experiment differ from it (the Runs view's label, runNaming), so two dashboards of one
   * experiment can be told apart; else "RegLens: <name>".
   */
  private async runTitle(view: RunView): Promise<string> {
    const plain = `RegLens: ${view.name}`;
    try {
      const dirs = (vscode.workspace.workspaceFolders ?? []).map((f) => this.ctx.config.runsDirectory(f.uri).fsPath);
      const all = await this.runs.list(dirs);
      const me = all.find((r) => r.id === view.id);
      if (!me) return plain;
      const group = me.experimentFile ?? me.name;
      const siblings = all.filter((r) => (r.experimentFile ?? r.name) === group);
      if (siblings.length < 2) return plain;
      const specs = await Promise.all(siblings.map((r) => this.runs.spec(r.id)));
      const labels = runLabels(siblings.map((r, i) => ({ id: r.id, name: r.name, spec: specs[i] })));
      const difference = labels[siblings.findIndex((r) => r.id === view.id)]?.difference;
      return difference ? `RegLens: ${difference} · ${view.name}`.slice(0, 100) : plain;
    } catch {
      return plain;
    }
  }

  private async resendCompareDetails(entry: OpenPanel): Promise<void> {
    const views = (await Promise.all(entry.runIds.map((id) => this.runs.view(id)))).filter((v): v is RunView => v !== undefined);
    if (views.length === 0) return;
    const details = await this.compareDetails(views);
    this.lastCompareDetails.set(entry.runIds.join(','), details);
    const msg: HostToWebview = { type: 'compareDetails', runIds: views.map((v) => v.id), ...details };
    void entry.panel.webview.postMessage(msg);
  }

  /** Test hook: the verdict and differing fields last sent to the compare panel of these runs. */
  compareDetailsOf(runIds: string[]): { differences: DifferingField[]; verdict?: { text: string; outcome: VerdictOutcome } } | undefined {
    return this.lastCompareDetails.get(runIds.join(','));
  }

  /**
   * What the compare panel shows besides the runs: each run's label (the fields that differ),
   * the table of differing hyperparameters, and for a probe's pair whether the regularizer helped.
   * Sets `label` on the views.
   */
  private async compareDetails(views: RunView[]): Promise<{ differences: DifferingField[]; verdict?: { text: string; outcome: VerdictOutcome } }> {
    const specs = await Promise.all(views.map((v) => this.runs.spec(v.id)));
    const differences = differingFields(specs).slice(0, 200);
    views.forEach((v, i) => {
      const difference = differenceText(differences, i);
      if (difference) v.label = difference.slice(0, 300);
    });
    const pair = probePair(views);
    if (!pair) return { differences };
    const finalOf = (v: RunView) => {
      for (let i = v.events.length - 1; i >= 0; i--) {
        const e = v.events[i];
        if (e.type === 'finished') return e.final;
        if (e.type === 'epoch') return e.accuracy;
      }
      return undefined;
    };
    const run = (v: RunView) => ({ name: v.name, status: v.status, final: finalOf(v) });
    return { differences, verdict: probeVerdict(run(views[pair.plain]), run(views[pair.regularized]), pair.regularizer) };
  }

  /**
   * A run still running but not in this window (a recorder script, the CLI, another
   * machine): the snapshot takes the events on disk now and the follower sends what is
   * appended after them. A page that reloads gets a new snapshot and a new follower.
   */
  private async follow(entry: OpenPanel, view: RunView): Promise<void> {
    entry.follower?.dispose();
    entry.follower = undefined;
    const runId = view.id;
    const dir = this.runs.folderOf(runId);
    // queued: a Slurm sweep member whose task has not started yet (its events will come).
    if ((view.status !== 'running' && view.status !== 'queued') || this.runs.liveRun(runId) || !dir) return;
    const post = (msg: HostToWebview) => void entry.panel.webview.postMessage(msg);
    const epochs = (events: readonly { type: string; epoch?: number }[]) => events.filter((e) => e.type === 'epoch').map((e) => e.epoch as number);
    const follower = new RunFollower(
      dir,
      {
        events: (events) => {
          this.followed.set(runId, [...(this.followed.get(runId) ?? []), ...epochs(events)]);
          post({ type: 'events', runId, events });
        },
        status: (status, error) => post({ type: 'status', runId, status, ...(error ? { error } : {}) }),
      },
      this.ctx.output,
    );
    view.events = await follower.initial();
    this.followed.set(runId, epochs(view.events));
    entry.follower = follower;
    follower.start();
  }

  /** After a reload (or before the tree was shown) the manager has not listed runs yet: look the ids up in every runs folder. */
  async findRuns(runIds: string[]): Promise<void> {
    if (runIds.every((id) => this.runs.folderOf(id))) return;
    const dirs = (vscode.workspace.workspaceFolders ?? []).map((f) => this.ctx.config.runsDirectory(f.uri).fsPath);
    await this.runs.list(dirs);
  }

  /** Closes the panels that show a run (after it was deleted). */
  closeRun(runId: string): void {
    for (const p of [...this.open]) if (p.runIds.includes(runId)) p.panel.dispose();
  }

  dispose(): void {
    for (const p of [...this.open]) {
      p.follower?.dispose();
      p.panel.dispose();
    }
    for (const r of this.pngRequests.values()) clearTimeout(r.timer);
    for (const d of this.disposables) d.dispose();
  }
}
