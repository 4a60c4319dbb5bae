// Where the time before the first epoch goes ("time to first epoch", npm run bench): each
// phase ends where the previous one did; reported in the started event's `startup`.
import type { Startup } from '../protocol/engineMessages';

export interface StartupClock {
  /** Ends the phase `name` now (a phase named twice adds up). */
  end(name: string): void;
  report(): Startup;
}

/** Starts the clock now; `before` holds phases measured earlier in this process (the engine's load). */
export function startupClock(before: Record<string, number> = {}): StartupClock {
  const phases: Record<string, number> = { ...before };
  let last = performance.now();
  return {
    end(name) {
      const t = performance.now();
      phases[name] = (phases[name] ?? 0) + (t - last) / 1000;
      last = t;
    },
    // performance.now() counts from the start of the process (performance.timeOrigin).
    report: () => ({ sinceProcessStart: performance.now() / 1000, phases: { ...phases } }),
  };
}
