/**
 * NumPy's .npz format: a zip archive with one `<name>.npy` member per array,
 * stored (`np.savez`) or deflated (`np.savez_compressed`). fflate reads and writes
 * the zip container, zip64 included. Browser-safe.
 */
import { unzipSync, zipSync, type Zippable } from 'fflate';
import type { Tensor } from '../../compiler/tensor.js';
import { decodeNpy, encodeNpy } from './npy.js';
import { fail, setEntry, type NpyArray, type NpyArrayLike } from './npyArray.js';

export interface EncodeNpzOptions {
  /** Deflate each member, as `np.savez_compressed` does; default false (stored, as `np.savez`). */
  readonly compress?: boolean;
}

/** A fixed timestamp (the zip epoch), so that the same arrays always give the same bytes. */
const zipEpoch = new Date(1980, 0, 1, 0, 0, 0);

/**
 * Encodes named tensors or arrays as a .npz archive; `np.load` reads it.
 * @example writeFileSync('d.npz', encodeNpz({ x: kiln.ones([2, 2]), y: kiln.tensor([1, 0], 'int32') }, { compress: true }));
 */
export function encodeNpz(arrays: Record<string, Tensor | NpyArrayLike>, options: EncodeNpzOptions = {}): Uint8Array {
  if (typeof arrays !== 'object' || arrays === null) fail('encodeNpz', `expected a record of named tensors or arrays, got ${arrays === null ? 'null' : typeof arrays}`);
  const files: Zippable = {};
  for (const [name, x] of Object.entries(arrays)) {
    if (name === '') fail('encodeNpz', 'expected non-empty array names, got ""');
    files[`${name}.npy`] = [encodeNpy(x), { mtime: zipEpoch }];
  }
  return zipSync(files, { level: options.compress ? 6 : 0, mtime: zipEpoch });
}

/**
 * Decodes a .npz archive into arrays by name (member names without `.npy`);
 * members that are not .npy files are skipped. `name` (the file's path) goes into errors.
 * @example decodeNpz(readFileSync('d.npz'), 'd.npz').x.shape // [2, 2]
 */
export function decodeNpz(bytes: Uint8Array, name = 'decodeNpz'): Record<string, NpyArray> {
  if (!(bytes instanceof Uint8Array)) fail(name, `not a valid .npz file: expected the file's bytes as a Uint8Array, got ${typeof bytes}`);
  if (bytes.length < 4 || bytes[0] !== 0x50 || bytes[1] !== 0x4b) {
    const got = bytes.length < 4 ? `a ${bytes.length}-byte file` : [...bytes.subarray(0, 2)].map((b) => `0x${b.toString(16).padStart(2, '0')}`).join(' ');
    fail(name, `not a valid .npz file: expected a zip archive starting with "PK" (0x50 0x4b), got ${got}`);
  }
  let members: Record<string, Uint8Array>;
  try {
    members = unzipSync(bytes);
  } catch (e) {
    return fail(name, `not a valid .npz file: the zip archive is damaged (${(e as Error).message})`);
  }
  const out: Record<string, NpyArray> = {};
  for (const [member, data] of Object.entries(members)) {
    if (!member.endsWith('.npy')) continue;
    setEntry(out, member.slice(0, -4), decodeNpy(data, `${name}/${member}`));
  }
  return out;
}
