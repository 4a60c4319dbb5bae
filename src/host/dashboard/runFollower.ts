// Follows a run another process writes (the recorder in a user's script, the CLI in a
// terminal, a sweep on another machine writing to a shared folder): new lines of its
// events.jsonl go to the open dashboard as they are appended, and its end (an end event,
// summary.json, or its writer's process gone) as a status change.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { EngineEvent } from '../../protocol/engineMessages';
import { EventsTail } from '../../runs/eventsTail';
import { EVENTS_FILE, SLURM_STATE_FILE, SUMMARY_FILE, isEnded, writerStatus, type RunStatus } from '../../runs/runFolder';

/** File watchers can miss changes (folders outside the workspace, network shares): a poll backs them up. */
const POLL_MS = 1000;

export interface FollowerSink {
  events(events: EngineEvent[]): void;
  status(status: RunStatus, error?: string): void;
}

export class RunFollower implements vscode.Disposable {
  private readonly tail: EventsTail;
  private readonly disposables: vscode.Disposable[] = [];
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Last status sent while the run goes on (a Slurm member: queued, running, queued again after a requeue). */
  private shownStatus: RunStatus | undefined;

  constructor(
    private readonly dir: string,
    private readonly sink: FollowerSink,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.tail = new EventsTail(path.join(dir, EVENTS_FILE));
  }

  /** Everything on disk now (the dashboard's snapshot); later reads return only what follows it. */
  async initial(): Promise<EngineEvent[]> {
    return (await this.tail.read()).events;
  }

  start(): void {
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(this.dir), `{${EVENTS_FILE},${SUMMARY_FILE},${SLURM_STATE_FILE}}`));
    this.disposables.push(watcher, watcher.onDidChange(() => void this.pump()), watcher.onDidCreate(() => void this.pump()));
    this.timer = setInterval(() => void this.pump(), POLL_MS);
  }

  private async pump(): Promise<void> {
    if (this.stopped) return;
    try {
      const { events } = await this.tail.read();
      if (this.stopped) return;
      if (events.length) this.sink.events(events);
      const end = events.find((e) => e.type === 'finished' || e.type === 'failed');
      if (end) {
        this.sink.status(end.type === 'finished' ? 'finished' : 'failed', end.type === 'failed' ? end.message : undefined);
        this.dispose();
        return;
      }
      const writer = await writerStatus(this.dir);
      if (writer && !isEnded(writer.status) && writer.status !== this.shownStatus && !this.stopped) {
        if (this.shownStatus !== undefined || writer.status !== 'running') this.sink.status(writer.status, writer.error);
        this.shownStatus = writer.status;
      }
      if (writer && isEnded(writer.status) && !this.stopped) {
        // Read once more: the last events may have landed between the two reads.
        const rest = (await this.tail.read()).events;
        if (rest.length) this.sink.events(rest);
        this.sink.status(writer.status, writer.error);
        this.dispose();
      }
    } catch (err) {
      this.log.warn(`following ${this.dir}: ${(err as Error).message}`);
    }
  }

  dispose(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
