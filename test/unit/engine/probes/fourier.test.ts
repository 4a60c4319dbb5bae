import * as assert from 'node:assert/strict';
import { dftPower, dftTable, iprOfPower, iprToMemorization, neuronIpr } from '../../../../src/engine/probes/fourier';
import { deriveRng, randNormal } from '../../../../src/engine/prng';

const p = 97;

/** Row-major [2p, units] first-layer kernel from per-unit U, V rows. */
function kernelOf(rows: { u: (m: number) => number; v: (n: number) => number }[]): Float32Array {
  const units = rows.length;
  const k = new Float32Array(2 * p * units);
  rows.forEach((r, j) => {
    for (let m = 0; m < p; m++) {
      k[m * units + j] = r.u(m);
      k[(p + m) * units + j] = r.v(m);
    }
  });
  return k;
}

describe('Fourier IPR (METHODS §1, convention: both input halves concatenated)', () => {
  it('DFT power matches the textbook sum', () => {
    const t = dftTable(7);
    const x = [0.3, -1, 2, 0.5, 0, 1.5, -0.7];
    const out = new Float64Array(7);
    dftPower(t, x, 0, 1, out);
    for (let f = 0; f < 7; f++) {
      let re = 0;
      let im = 0;
      for (let m = 0; m < 7; m++) {
        re += x[m] * Math.cos((2 * Math.PI * f * m) / 7);
        im -= x[m] * Math.sin((2 * Math.PI * f * m) / 7);
      }
      assert.ok(Math.abs(out[f] - (re * re + im * im)) < 1e-9);
    }
  });

  it('a pure single-frequency neuron has IPR 1/4 (input) and 1/2 (output column)', () => {
    const f = 7;
    const kernel = kernelOf([
      { u: (m) => Math.cos((2 * Math.PI * f * m) / p), v: (n) => Math.cos((2 * Math.PI * f * n) / p + 0.9) },
      // Equal amplitude in both halves: the 4 bins then carry equal power (scale does not matter).
      { u: (m) => 3 * Math.sin((2 * Math.PI * 30 * m) / p), v: (n) => -3 * Math.cos((2 * Math.PI * 30 * n) / p) },
    ]);
    const out = new Float32Array(2 * p);
    for (let c = 0; c < p; c++) {
      out[c] = Math.cos((2 * Math.PI * f * c) / p);
      out[p + c] = Math.sin((2 * Math.PI * 30 * c) / p);
    }
    const r = neuronIpr(kernel, 2, p, out);
    for (const v of r.ipr) assert.ok(Math.abs(v - 0.25) < 1e-5, `ipr ${v}`);
    for (const v of r.outputIpr!) assert.ok(Math.abs(v - 0.5) < 1e-5, `output ipr ${v}`);
    // The folded spectrum puts all power at the neuron's frequency.
    assert.ok(r.spectrum[0][f] > 0.999);
    assert.equal(r.spectrum[0].length, 49);
  });

  it('random Gaussian weights give IPR about 1/p (~0.0103 at p = 97)', () => {
    const rng = deriveRng(1, 'ipr-test');
    const units = 256;
    const kernel = new Float32Array(2 * p * units).map(() => randNormal(rng) * 0.1);
    const r = neuronIpr(kernel, units, p);
    const mean = r.ipr.reduce((s, v) => s + v, 0) / units;
    assert.ok(Math.abs(mean - 1 / p) < 0.25 / p, `mean random IPR ${mean}`);
    assert.ok(Math.max(...r.ipr) < 0.05);
  });

  it('IPR of a flat spectrum is 1/n and of a zero vector 0; memorization = 1 - normalised IPR', () => {
    assert.equal(iprOfPower([1, 1, 1, 1]), 0.25);
    assert.equal(iprOfPower([0, 0]), 0);
    const m = iprToMemorization([0.01, 0.25, 0.13]);
    [1, 0, 0.5].forEach((v, i) => assert.ok(Math.abs(m[i] - v) < 1e-12));
  });
});
