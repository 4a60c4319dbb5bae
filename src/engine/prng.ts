// Seeded randomness for everything the engine draws (split, label noise, init,
// batch order, dropout seeds). Math.random is never used so a run is reproducible
// from its experiment file alone, on any backend.

export type Rng = () => number;

/** A generator whose position can be read and set: what a checkpoint saves so a resumed run draws on where it stopped. */
export interface StatefulRng extends Rng {
  getState(): number;
  setState(state: number): void;
}

/** mulberry32: tiny, fast, good enough statistical quality for shuffles and init. */
export function mulberry32(seed: number): StatefulRng {
  let a = seed >>> 0;
  const rng = (() => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }) as StatefulRng;
  rng.getState = () => a;
  rng.setState = (state: number) => {
    a = state >>> 0;
  };
  return rng;
}

/**
 * A child generator for one purpose, so adding draws to one stage (say, init)
 * does not shift the random stream of another (say, the split).
 */
export function deriveRng(seed: number, stream: string): StatefulRng {
  let h = 2166136261 ^ (seed >>> 0);
  for (let i = 0; i < stream.length; i++) h = Math.imul(h ^ stream.charCodeAt(i), 16777619);
  return mulberry32(h >>> 0);
}

/** Uniform integer in [0, n). */
export function randInt(rng: Rng, n: number): number {
  return Math.floor(rng() * n);
}

/** In-place Fisher-Yates shuffle. */
export function shuffle<T>(rng: Rng, items: T[] | Int32Array): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = randInt(rng, i + 1);
    const t = items[i];
    items[i] = items[j];
    items[j] = t;
  }
}

/** Standard normal via Box-Muller (one value per call; simplicity over speed, init only). */
export function randNormal(rng: Rng): number {
  let u = 0;
  while (u === 0) u = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}
