// Viridis: perceptually uniform and readable with the common colour-vision deficiencies and
// in grayscale, so the heatmap survives colour-blindness and high-contrast themes alike.
// Eleven stops of matplotlib's table, linearly interpolated into a 256-entry lookup table.
const VIRIDIS_STOPS = [
  0x440154, 0x482475, 0x414487, 0x355f8d, 0x2a788e, 0x21918c, 0x22a884, 0x44bf70, 0x7ad151, 0xbddf26, 0xfde725,
];

function buildLut(stops: readonly number[]): Uint8ClampedArray {
  const lut = new Uint8ClampedArray(256 * 3);
  for (let i = 0; i < 256; i++) {
    const t = (i / 255) * (stops.length - 1);
    const k = Math.min(stops.length - 2, Math.floor(t));
    const f = t - k;
    const a = stops[k];
    const b = stops[k + 1];
    for (let c = 0; c < 3; c++) {
      const shift = 16 - 8 * c;
      const ca = (a >> shift) & 255;
      const cb = (b >> shift) & 255;
      lut[i * 3 + c] = Math.round(ca + (cb - ca) * f);
    }
  }
  return lut;
}

export const viridisLut: Uint8ClampedArray = buildLut(VIRIDIS_STOPS);

/**
 * The same table as opaque RGBA pixels, one 32-bit word per entry, for writing an ImageData
 * through a Uint32Array view (one store per pixel instead of four). Built from bytes, so the
 * words match ImageData's byte order on any endianness.
 */
export const viridisRgba32: Uint32Array = (() => {
  const bytes = new Uint8ClampedArray(256 * 4);
  for (let i = 0; i < 256; i++) {
    bytes[i * 4] = viridisLut[i * 3];
    bytes[i * 4 + 1] = viridisLut[i * 3 + 1];
    bytes[i * 4 + 2] = viridisLut[i * 3 + 2];
    bytes[i * 4 + 3] = 255;
  }
  return new Uint32Array(bytes.buffer);
})();

/** t in [0,1] (clamped) -> "rgb(r,g,b)". */
export function viridisCss(t: number): string {
  const i = Math.round(Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * 255) * 3;
  return `rgb(${viridisLut[i]},${viridisLut[i + 1]},${viridisLut[i + 2]})`;
}
