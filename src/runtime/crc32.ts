/**
 * CRC-32 (the IEEE 802.3 polynomial, as zip and PNG use), to detect corrupted
 * files — not a cryptographic hash. Browser-safe and synchronous. Eight bytes a
 * step through eight tables ("slicing by 8"): about 3× the byte-at-a-time loop,
 * which matters for an artifact's load time.
 */
import { KilnRuntimeError } from './errors.js';

let tables: Uint32Array[] | undefined;

function makeTables(): Uint32Array[] {
  const t = Array.from({ length: 8 }, () => new Uint32Array(256));
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[0]![n] = c >>> 0;
  }
  // t[k][n]: the CRC of byte n followed by k zero bytes
  for (let k = 1; k < 8; k++) for (let n = 0; n < 256; n++) t[k]![n] = (t[k - 1]![n]! >>> 8) ^ t[0]![t[k - 1]![n]! & 0xff]!;
  return t;
}

/** The CRC-32 of `parts` taken as one byte string, as 8 lowercase hex digits. */
export function crc32(...parts: Uint8Array[]): string {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = (tables ??= makeTables()) as [Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array];
  let c = 0xffffffff;
  for (const b of parts) {
    if (!(b instanceof Uint8Array)) throw new KilnRuntimeError(`kiln runtime: crc32: expected Uint8Array bytes, got ${b === null ? 'null' : typeof b}.`);
    const n = b.length;
    let i = 0;
    for (; i + 8 <= n; i += 8) {
      const lo = (c ^ (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24))) >>> 0;
      const hi = (b[i + 4]! | (b[i + 5]! << 8) | (b[i + 6]! << 16) | (b[i + 7]! << 24)) >>> 0;
      c = t7[lo & 0xff]! ^ t6[(lo >>> 8) & 0xff]! ^ t5[(lo >>> 16) & 0xff]! ^ t4[lo >>> 24]! ^ t3[hi & 0xff]! ^ t2[(hi >>> 8) & 0xff]! ^ t1[(hi >>> 16) & 0xff]! ^ t0[hi >>> 24]!;
    }
    for (; i < n; i++) c = t0[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  }
  return ((c ^ 0xffffffff) >>> 0).toString(16).padStart(8, '0');
}
