// Two-dimensional toy sets for quick demos: two moons and K interleaved spirals, as in
// scikit-learn's make_moons and the classic CS231n spiral set, drawn from the seed.
import { deriveRng, randNormal } from '../prng';
import type { RawExamples } from './dataset';

export function makeMoons(samples: number, noise: number, seed: number): RawExamples {
  const rng = deriveRng(seed, 'moons');
  const x = new Float32Array(samples * 2);
  const labels = new Int32Array(samples);
  const outer = Math.ceil(samples / 2);
  for (let i = 0; i < samples; i++) {
    const upper = i < outer;
    // Evenly spaced along each arc, like make_moons.
    const t = Math.PI * (upper ? i / Math.max(1, outer - 1) : (i - outer) / Math.max(1, samples - outer - 1));
    const px = upper ? Math.cos(t) : 1 - Math.cos(t);
    const py = upper ? Math.sin(t) : 0.5 - Math.sin(t);
    x[2 * i] = px + noise * randNormal(rng);
    x[2 * i + 1] = py + noise * randNormal(rng);
    labels[i] = upper ? 0 : 1;
  }
  return { n: samples, inputSize: 2, classes: 2, x, labels };
}

export function makeSpirals(samples: number, classes: number, turns: number, noise: number, seed: number): RawExamples {
  const rng = deriveRng(seed, 'spirals');
  const x = new Float32Array(samples * 2);
  const labels = new Int32Array(samples);
  const per = Math.ceil(samples / classes);
  for (let i = 0; i < samples; i++) {
    const c = Math.floor(i / per);
    const r = ((i % per) + 1) / per;
    const theta = 2 * Math.PI * (turns * r + c / classes) + noise * randNormal(rng) * 2 * Math.PI;
    x[2 * i] = r * Math.cos(theta);
    x[2 * i + 1] = r * Math.sin(theta);
    labels[i] = c;
  }
  return { n: samples, inputSize: 2, classes, x, labels };
}
