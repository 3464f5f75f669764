/**
 * NumPy's .npz format: a zip archive with one `<name>.npy` member per array,
 * stored (`np.savez`) or deflated (`np.savez_compressed`). fflate reads and writes
 * the zip container, zip64 included. Browser-safe.
 */
import { unzipSync, zipSync, type Zippable } from 'fflate';
import type { Tensor } from '../../compiler/tensor.js';
import { crc32 } from '../runtime/crc32.js';
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
  const crcs = zipCrcs(bytes, name);
  const out: Record<string, NpyArray> = {};
  for (const [member, data] of Object.entries(members)) {
    const want = crcs.get(member);
    if (want === undefined) fail(name, `not a valid .npz file: member "${member}" is missing from the zip's central directory`);
    const got = crc32(data);
    if (got !== want) fail(name, `member "${member}" is corrupted: its CRC-32 is ${got}, the zip records ${want}`);
    if (!member.endsWith('.npy')) continue;
    setEntry(out, member.slice(0, -4), decodeNpy(data, `${name}/${member}`));
  }
  return out;
}

/**
 * Each member's CRC-32 as the zip's central directory records it (fflate reads
 * members without checking them): the end-of-directory record (ZIP64 too) gives
 * the directory, whose entries give name and CRC.
 */
function zipCrcs(bytes: Uint8Array, name: string): Map<string, string> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let end = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 0xffff); i--) {
    if (view.getUint32(i, true) === 0x06054b50) {
      end = i;
      break;
    }
  }
  if (end < 0) fail(name, 'not a valid .npz file: the zip has no end-of-directory record');
  let count = view.getUint16(end + 10, true);
  let size = view.getUint32(end + 12, true);
  let offset = view.getUint32(end + 16, true);
  if (view.getUint16(end + 8, true) !== count) fail(name, 'not a valid .npz file: its end-of-directory record is damaged (entry counts disagree)');
  if ((count === 0xffff || offset === 0xffffffff) && end >= 20 && view.getUint32(end - 20, true) === 0x07064b50) {
    const zip64 = Number(view.getBigUint64(end - 12, true));
    if (zip64 + 56 > bytes.length || view.getUint32(zip64, true) !== 0x06064b50) fail(name, 'not a valid .npz file: its ZIP64 end-of-directory record is damaged');
    count = Number(view.getBigUint64(zip64 + 32, true));
    size = Number(view.getBigUint64(zip64 + 40, true));
    offset = Number(view.getBigUint64(zip64 + 48, true));
  }
  const crcs = new Map<string, string>();
  const decoder = new TextDecoder();
  let at = offset;
  for (let k = 0; k < count; k++) {
    if (at + 46 > bytes.length || view.getUint32(at, true) !== 0x02014b50) fail(name, 'not a valid .npz file: its zip central directory is damaged');
    const nameLength = view.getUint16(at + 28, true);
    const member = decoder.decode(bytes.subarray(at + 46, at + 46 + nameLength));
    // the name is recorded twice, in the directory and before the data: a damaged copy shows as a mismatch
    const local = view.getUint32(at + 42, true);
    if (local + 30 > bytes.length || view.getUint32(local, true) !== 0x04034b50) fail(name, `not a valid .npz file: member "${member}" has no local header where the directory says`);
    const localName = decoder.decode(bytes.subarray(local + 30, local + 30 + view.getUint16(local + 26, true)));
    if (localName !== member) fail(name, `not a valid .npz file: a member is named "${member}" in the zip's directory but "${localName}" before its data`);
    crcs.set(member, view.getUint32(at + 16, true).toString(16).padStart(8, '0'));
    at += 46 + nameLength + view.getUint16(at + 30, true) + view.getUint16(at + 32, true);
  }
  if (at - offset !== size) fail(name, `not a valid .npz file: its zip directory holds ${at - offset} bytes of ${count} entries, the end record says ${size}`);
  return crcs;
}
