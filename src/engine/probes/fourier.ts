// Fourier inverse participation ratio of a neuron's weights (Doshi et al., ICLR 2024;
// METHODS §1). The wasm backend has no FFT kernel (RECIPES §2) and p <= 257, so the
// DFT is plain JS against a precomputed cos/sin table: O(p^2) per vector, a few
// milliseconds for 512 neurons at p = 97.
//
// Convention (the one measured here, documented in docs/results.md): for neuron k,
// take the full complex DFT over the p residues of its input rows U[k,:] (weights from
// one-hot(m)) and V[k,:] (from one-hot(n)), CONCATENATE the two spectra (2p bins) and
// compute IPR = sum_j |x_j|^4 / (sum_j |x_j|^2)^2. A pure single frequency puts equal
// power in bins f and p - f of both halves: IPR = 1/4. Random Gaussian weights give
// about 2 / (2p) = 1/p (~0.0103 at p = 97). The output column W[:,k] is reported
// separately (`outputIpr`: one p-bin spectrum, pure frequency -> 1/2, random -> 2/p).

export interface DftTable {
  p: number;
  cos: Float64Array;
  sin: Float64Array;
}

const tables = new Map<number, DftTable>();

export function dftTable(p: number): DftTable {
  let t = tables.get(p);
  if (!t) {
    const cos = new Float64Array(p * p);
    const sin = new Float64Array(p * p);
    for (let f = 0; f < p; f++) {
      for (let m = 0; m < p; m++) {
        // (f * m) mod p keeps the angle small and exact in integers.
        const a = (2 * Math.PI * ((f * m) % p)) / p;
        cos[f * p + m] = Math.cos(a);
        sin[f * p + m] = Math.sin(a);
      }
    }
    t = { p, cos, sin };
    tables.set(p, t);
  }
  return t;
}

/** |DFT|^2 of values[offset + stride * m], m = 0..p-1, into out[outOffset + f]. */
export function dftPower(
  table: DftTable,
  values: ArrayLike<number>,
  offset: number,
  stride: number,
  out: Float64Array,
  outOffset = 0,
): void {
  const { p, cos, sin } = table;
  for (let f = 0; f < p; f++) {
    let re = 0;
    let im = 0;
    const row = f * p;
    for (let m = 0; m < p; m++) {
      const v = values[offset + stride * m];
      re += v * cos[row + m];
      im -= v * sin[row + m];
    }
    out[outOffset + f] = re * re + im * im;
  }
}

/** IPR (r = 2) of a power spectrum: sum P^2 / (sum P)^2; 0 for an all-zero vector. */
export function iprOfPower(power: ArrayLike<number>, from = 0, to = power.length): number {
  let s = 0;
  let s2 = 0;
  for (let i = from; i < to; i++) {
    s += power[i];
    s2 += power[i] * power[i];
  }
  return s > 0 ? s2 / (s * s) : 0;
}

export interface NeuronIpr {
  /** Input-rows IPR per neuron (the convention above). */
  ipr: number[];
  /** Output-column IPR per neuron, when an output kernel [units, p] was given. */
  outputIpr?: number[];
  /**
   * Per neuron, power per frequency 0..floor(p/2) summed over both input halves and
   * over f and p - f, normalised to sum 1: what the dashboard's click-through plots.
   */
  spectrum: number[][];
}

/**
 * kernel: the first dense layer's weights, row-major [2p, units] (rows 0..p-1 are
 * one-hot(m), p..2p-1 are one-hot(n)); outKernel: the next layer's [units, p].
 */
export function neuronIpr(kernel: Float32Array, units: number, p: number, outKernel?: Float32Array): NeuronIpr {
  if (kernel.length !== 2 * p * units) throw new Error(`neuronIpr: kernel has ${kernel.length} values, expected 2p x units = ${2 * p * units}`);
  const table = dftTable(p);
  const both = new Float64Array(2 * p);
  const out = new Float64Array(p);
  const half = Math.floor(p / 2);
  const ipr: number[] = [];
  const outputIpr: number[] | undefined = outKernel ? [] : undefined;
  const spectrum: number[][] = [];
  for (let k = 0; k < units; k++) {
    // U[k, m] = kernel[m, k]: column k, stride = units.
    dftPower(table, kernel, k, units, both, 0);
    dftPower(table, kernel, p * units + k, units, both, p);
    ipr.push(iprOfPower(both));
    const folded = new Array<number>(half + 1).fill(0);
    let total = 0;
    for (let f = 0; f < p; f++) {
      const bin = Math.min(f, p - f);
      const v = both[f] + both[p + f];
      folded[bin] += v;
      total += v;
    }
    spectrum.push(folded.map((v) => (total > 0 ? Math.round((v / total) * 1e4) / 1e4 : 0)));
    if (outKernel && outputIpr) {
      // W[:, k] = outKernel[k, c]: row k, stride 1.
      dftPower(table, outKernel, k * p, 1, out, 0);
      outputIpr.push(iprOfPower(out));
    }
  }
  return { ipr, outputIpr, spectrum };
}

/** Memorization score from IPR: 1 - IPR min-max normalised over the layer (schema contract). */
export function iprToMemorization(ipr: number[]): number[] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of ipr) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const range = hi - lo;
  return ipr.map((v) => (range > 0 ? 1 - (v - lo) / range : 0));
}
