// Runs sweep members with at most `parallel` of them at once. Knows nothing about engines or
// VS Code: the caller's start() launches one member (the CLI through startRecordedRun, the host
// through RunManager.start), so every member is an ordinary run. Each member is its own engine
// process, which is what lets a sweep use more than one core (TF.js on wasm trains on one).
import * as os from 'node:os';
import type { EvalThreadChoice } from '../protocol/engineMessages';

export interface SweepMemberRun<R> {
  cancel(): void;
  ended: Promise<R>;
}

export type SweepMemberResult<R> =
  | { index: number; state: 'ended'; result: R }
  /** start() threw (e.g. the run folder could not be created). */
  | { index: number; state: 'error'; error: string }
  /** Cancelled before it started. */
  | { index: number; state: 'skipped' };

export interface SweepRunOptions<M, R> {
  /** Most members running at once (values below 1 count as 1). */
  parallel: number;
  start(member: M, index: number): Promise<SweepMemberRun<R>>;
  onStarted?(index: number): void;
  onEnded?(outcome: SweepMemberResult<R>): void;
}

export interface SweepHandle<R> {
  /** Cancels the running members and skips the ones not started yet. */
  cancel(): void;
  readonly cancelled: boolean;
  /** One result per member, in member order. Never rejects. */
  done: Promise<SweepMemberResult<R>[]>;
}

/** The setting's value, where 0 (or anything not a positive integer) means one run per CPU core. */
/**
 * Members training side by side already fill the cores, so under 'auto' each keeps its
 * evaluation on its own thread; an explicit 'on' or 'off' is the user's call.
 */
export function evalThreadForSweep(choice: EvalThreadChoice, parallel: number): EvalThreadChoice {
  return choice === 'auto' && parallel > 1 ? 'off' : choice;
}

export function resolveParallelism(setting: number | undefined): number {
  if (setting !== undefined && Number.isInteger(setting) && setting >= 1) return setting;
  return Math.max(1, os.availableParallelism());
}

export function runSweep<M, R>(members: readonly M[], opts: SweepRunOptions<M, R>): SweepHandle<R> {
  const limit = Math.max(1, Math.floor(opts.parallel) || 1);
  const results: SweepMemberResult<R>[] = new Array(members.length);
  const running = new Set<SweepMemberRun<R>>();
  let next = 0;
  let cancelled = false;

  const report = (r: SweepMemberResult<R>) => {
    results[r.index] = r;
    try {
      opts.onEnded?.(r);
    } catch {
      // A listener's bug must not stall the sweep.
    }
  };

  // Each lane takes the next member when its previous one has ended: at most `limit` at once.
  const lane = async (): Promise<void> => {
    while (next < members.length) {
      const index = next++;
      if (cancelled) {
        report({ index, state: 'skipped' });
        continue;
      }
      let run: SweepMemberRun<R>;
      try {
        run = await opts.start(members[index], index);
      } catch (err) {
        report({ index, state: 'error', error: err instanceof Error ? err.message : String(err) });
        continue;
      }
      running.add(run);
      // Cancelled while start() was in flight: this member must not outlive the sweep.
      if (cancelled) run.cancel();
      try {
        opts.onStarted?.(index);
      } catch {
        // as above
      }
      try {
        report({ index, state: 'ended', result: await run.ended });
      } catch (err) {
        report({ index, state: 'error', error: err instanceof Error ? err.message : String(err) });
      } finally {
        running.delete(run);
      }
    }
  };

  const done = Promise.all(Array.from({ length: Math.min(limit, members.length) }, lane)).then(() => results);
  return {
    cancel() {
      if (cancelled) return;
      cancelled = true;
      for (const r of running) r.cancel();
    },
    get cancelled() {
      return cancelled;
    },
    done,
  };
}
