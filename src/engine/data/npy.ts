// NumPy .npy files, format version 1.0 (little-endian, C order): how engine.js hands a
// materialised dataset to the PyTorch engine (docs/torch-engine.md). Only the three dtypes
// the hand-over uses; numpy.load reads them without a pickle.
import * as fs from 'node:fs';
import * as os from 'node:os';

export type NpyArray = Float32Array | Int32Array | Uint8Array;

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY
/** numpy aligns the data to 64 bytes so it can be memory-mapped. */
const ALIGN = 64;

function descrOf(values: NpyArray): string {
  if (values instanceof Float32Array) return '<f4';
  if (values instanceof Int32Array) return '<i4';
  return '|u1';
}

export class NpyError extends Error {}

/** The bytes of an .npy file holding `values` with `shape` (the product of shape must be values.length). */
export function encodeNpy(values: NpyArray, shape: readonly number[]): Buffer {
  const count = shape.reduce((a, b) => a * b, 1);
  if (!shape.every((d) => Number.isInteger(d) && d >= 0) || count !== values.length) {
    throw new NpyError(`shape [${shape.join(', ')}] does not hold ${values.length} values`);
  }
  // The typed array's bytes are written as they are: that is '<' only on a little-endian machine.
  if (os.endianness() !== 'LE') throw new NpyError('writing .npy files needs a little-endian machine');
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  let header = `{'descr': '${descrOf(values)}', 'fortran_order': False, 'shape': (${dims}), }`;
  // Magic (6) + version (2) + header length (2) + header, padded with spaces and ended by '\n'.
  const unpadded = MAGIC.length + 4 + header.length + 1;
  header += ' '.repeat((ALIGN - (unpadded % ALIGN)) % ALIGN) + '\n';
  if (header.length > 0xffff) throw new NpyError('header too long for format 1.0');
  const prefix = Buffer.alloc(MAGIC.length + 4);
  MAGIC.copy(prefix, 0);
  prefix[6] = 1; // major
  prefix[7] = 0; // minor
  prefix.writeUInt16LE(header.length, 8);
  return Buffer.concat([prefix, Buffer.from(header, 'latin1'), Buffer.from(values.buffer, values.byteOffset, values.byteLength)]);
}

export function writeNpy(file: string, values: NpyArray, shape: readonly number[]): void {
  fs.writeFileSync(file, encodeNpy(values, shape));
}

export interface Npy {
  descr: '<f4' | '<i4' | '|u1';
  shape: number[];
  values: NpyArray;
}

/** Reads what encodeNpy writes (and numpy.save writes for these dtypes); tests use it to check files. */
export function decodeNpy(bytes: Buffer): Npy {
  if (bytes.length < 10 || !bytes.subarray(0, 6).equals(MAGIC)) throw new NpyError('not an .npy file (bad magic)');
  const major = bytes[6];
  if (major !== 1 && major !== 2) throw new NpyError(`unsupported .npy version ${major}.${bytes[7]}`);
  const headerLen = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = bytes.subarray(start, start + headerLen).toString('latin1');
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) throw new NpyError(`unreadable .npy header ${header.trim()}`);
  if (fortran === 'True') throw new NpyError('Fortran-order .npy files are not supported');
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const data = bytes.subarray(start + headerLen);
  // Copied so the array is aligned and owns its memory.
  const copy = (bytesPer: number) => {
    if (data.length !== count * bytesPer) throw new NpyError(`expected ${count * bytesPer} data bytes, found ${data.length}`);
    return new Uint8Array(data).buffer;
  };
  switch (descr) {
    case '<f4':
      return { descr, shape, values: new Float32Array(copy(4)) };
    case '<i4':
      return { descr, shape, values: new Int32Array(copy(4)) };
    case '|u1':
      return { descr, shape, values: new Uint8Array(copy(1)) };
    default:
      throw new NpyError(`unsupported dtype ${descr} (expected <f4, <i4 or |u1)`);
  }
}

export function readNpy(file: string): Npy {
  return decodeNpy(fs.readFileSync(file));
}
