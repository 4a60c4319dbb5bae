// Engine child-process entry (bundled to dist/engine.js). Protocol: the parent
// sends one 'start' command, may send 'cancel'; every EngineEvent goes back over
// IPC. Stdout/stderr are for humans only.
import type { EngineEvent } from '../protocol/engineMessages';
import { parseEngineCommand } from '../protocol/engineMessages';
import { isEvalThread } from './evalThread';
import { runStart } from './engineChoice';

function main(): void {
  // Node's own start plus evaluating this bundle (performance.now() counts from the process start).
  const engineLoad = performance.now() / 1000;
  const send = process.send?.bind(process);
  if (!send) {
    console.error('reglens engine: must be started by RegLens with an IPC channel (child_process.fork).');
    process.exit(2);
  }
  const controller = new AbortController();
  let started = false;
  // Resolves when the last queued event has been handed to the OS, so exiting
  // after it loses nothing the parent has not received.
  let lastSend: Promise<void> = Promise.resolve();
  const emit = (event: EngineEvent) => {
    if (!process.connected) return; // parent gone: nobody to tell
    lastSend = new Promise((resolve) => {
      try {
        // The callback also fires (with an error) when the channel closes meanwhile.
        send(event, undefined, undefined, () => resolve());
      } catch {
        resolve();
      }
    });
  };
  const exitAfterFlush = (code: number) => {
    void lastSend.then(() => process.exit(code));
  };

  process.on('message', (raw: unknown) => {
    const parsed = parseEngineCommand(raw);
    if (!parsed.ok) {
      emit({ type: 'log', level: 'error', message: `malformed command ignored: ${parsed.error}` });
      return;
    }
    const command = parsed.value;
    if (command.type === 'cancel') {
      controller.abort();
      // Not yet training: nothing to wind down.
      if (!started) exitAfterFlush(0);
      return;
    }
    if (started) {
      emit({ type: 'log', level: 'error', message: 'a run is already in progress; second start ignored' });
      return;
    }
    started = true;
    let failed = false;
    void runStart(command, {
      signal: controller.signal,
      startupPhases: { engineLoad, command: performance.now() / 1000 - engineLoad },
      onEvent: (e) => {
        if (e.type === 'failed') failed = true;
        emit(e);
      },
    }).then(
      () => exitAfterFlush(failed ? 1 : 0),
      // runStart() reports its own errors; this is a bug in it. Exit rather than hang.
      (err: Error) => {
        console.error(`reglens engine: ${err.stack ?? err}`);
        exitAfterFlush(1);
      },
    );
  });
  // Ctrl+C in a terminal signals the whole process group, engine included: the
  // parent (CLI) owns cancellation and turns it into a 'cancel' command, so a
  // cancelled run still ends cleanly rather than dying mid-write.
  process.on('SIGINT', () => undefined);
  // Likewise SIGTERM for a Slurm task: Slurm signals every process of the task at once (scancel,
  // time limit, requeue); the CLI turns it into a cancel so the run's record ends cleanly.
  if (process.env.REGLENS_ENGINE_IGNORE_SIGTERM === '1') process.on('SIGTERM', () => undefined);
  // The parent went away: nobody is listening, stop burning CPU.
  process.on('disconnect', () => {
    controller.abort();
    if (!started) process.exit(0);
  });
}

// The same bundle also runs the evaluation thread (evalThread.ts), which has no IPC channel.
if (!isEvalThread()) main();
