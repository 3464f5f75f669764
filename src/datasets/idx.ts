/**
 * The IDX file format of MNIST-style data sets: a magic number (two zero bytes,
 * a type code, the number of dimensions), big-endian uint32 dimension sizes, then
 * the values. Files may be gzip-compressed.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { KilnError } from '../../compiler/errors.js';

export interface IdxArray {
  readonly shape: readonly number[];
  readonly data: Uint8Array;
}

/**
 * Parses an IDX buffer of unsigned bytes (type code 0x08), the type every
 * MNIST-style file uses.
 * @example parseIdx(readFileSync('t10k-labels-idx1-ubyte')).shape // [10000]
 */
export function parseIdx(bytes: Uint8Array, name = 'IDX data'): IdxArray {
  const bad = (why: string): never => { throw new KilnError(`${name}: not a valid IDX file: ${why}.`); };
  if (bytes.length < 4) bad(`expected at least a 4-byte header, got ${bytes.length} bytes`);
  if (bytes[0] !== 0 || bytes[1] !== 0) bad(`expected the magic number to start with two zero bytes, got 0x${bytes[0]!.toString(16)} 0x${bytes[1]!.toString(16)}`);
  if (bytes[2] !== 0x08) bad(`expected unsigned-byte data (type 0x08), got type 0x${bytes[2]!.toString(16)}`);
  const rank = bytes[3]!;
  const headerSize = 4 + 4 * rank;
  if (rank === 0 || bytes.length < headerSize) bad(`expected ${rank} dimension sizes after the magic number, got a ${bytes.length}-byte file`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i, false));
  const size = shape.reduce((a, b) => a * b, 1);
  if (bytes.length - headerSize !== size) bad(`expected ${size} values for shape [${shape.join(',')}], got ${bytes.length - headerSize}`);
  return { shape, data: bytes.subarray(headerSize) };
}

/** Reads an IDX file, gunzipping it when it starts with the gzip magic bytes. */
export function readIdx(file: string): IdxArray {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new KilnError(`${file}: cannot read the file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}).`);
  }
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch (e) {
      throw new KilnError(`${file}: the gzip stream is damaged (${(e as Error).message}).`);
    }
  }
  return parseIdx(bytes, file);
}
