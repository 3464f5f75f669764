/**
 * NumPy's .npy format: the magic string `\x93NUMPY`, a version (1.0, 2.0 or 3.0),
 * a little-endian header length (2 bytes in 1.0, 4 after), a Python-literal dict
 * `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }` padded with spaces
 * and a newline to a multiple of 64 bytes, then the raw values. Browser-safe.
 */
import type { Tensor } from '../../compiler/tensor.js';
import {
  arrayFromBytes, asNpyArray, bytesOfArray, elementCount, fail, formatShape, itemSize, reorderBytes,
  type NpyArray, type NpyArrayLike, type NpyDtype,
} from './npyArray.js';
import { parsePyLiteral, pyRepr, PyLiteralError, type PyValue } from './pyLiteral.js';

const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const alignment = 64; // NumPy pads the header so the data starts on a 64-byte boundary

/** The descr each dtype is written with; 1-byte types have no byte order ('|'). */
const descrOf: Record<NpyDtype, string> = { float32: '<f4', float64: '<f8', int32: '<i4', int64: '<i8', uint8: '|u1', bool: '|b1' };
/** Type character and size (without the byte order) → dtype. */
const dtypeOf: Record<string, NpyDtype> = { f4: 'float32', f8: 'float64', i4: 'int32', i8: 'int64', u1: 'uint8', b1: 'bool' };
const supported = 'float32 (<f4), float64 (<f8), int32 (<i4), int64 (<i8), uint8 (|u1) or bool (|b1), little- or big-endian';

export interface EncodeNpyOptions {
  /** Write a column-major file (NumPy's `fortran_order: True`); defaults to the array's `fortranOrder`, else false. */
  readonly fortranOrder?: boolean;
}

/**
 * Encodes a tensor or an array as a .npy file (format 1.0, or 2.0 when the header
 * needs more than 65535 bytes).
 * @example writeFileSync('x.npy', encodeNpy(kiln.tensor([[1, 2], [3, 4]])));  // np.load('x.npy')
 */
export function encodeNpy(x: Tensor | NpyArrayLike, options: EncodeNpyOptions = {}): Uint8Array {
  const array = asNpyArray(x, 'encodeNpy');
  const fortran = options.fortranOrder ?? array.fortranOrder;
  const shape = array.shape.length === 1 ? `(${array.shape[0]},)` : `(${array.shape.join(', ')})`;
  const dict = `{'descr': '${descrOf[array.dtype]}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': ${shape}, }`;
  let version = 1;
  let header = padHeader(dict, 10);
  if (header.length > 0xffff) { version = 2; header = padHeader(dict, 12); }
  const prefix = version === 1 ? 10 : 12;
  let data = bytesOfArray(array, true);
  if (fortran) data = reorderBytes(data, array.shape, itemSize[array.dtype], false);
  const out = new Uint8Array(prefix + header.length + data.length);
  out.set(magic, 0);
  out[6] = version;
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, header.length, true);
  else view.setUint32(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[prefix + i] = header.charCodeAt(i); // ASCII
  out.set(data, prefix + header.length);
  return out;
}

/** The dict, spaces and a final newline, so that the prefix plus header fill whole 64-byte blocks. */
function padHeader(dict: string, prefix: number): string {
  const unpadded = prefix + dict.length + 1;
  return dict + ' '.repeat((alignment - (unpadded % alignment)) % alignment) + '\n';
}

/**
 * Decodes a .npy file into an array in C order (a Fortran-order file is
 * transposed, and `fortranOrder` says it was). Values keep their dtype: use
 * `toTensor` to get a kiln tensor. `name` (the file's path) goes into errors.
 * @example decodeNpy(readFileSync('x.npy'), 'x.npy') // { dtype: 'float64', shape: [2, 2], data: Float64Array […], fortranOrder: false }
 */
export function decodeNpy(bytes: Uint8Array, name = 'decodeNpy'): NpyArray {
  const bad = (why: string): never => fail(name, `not a valid .npy file: ${why}`);
  if (!(bytes instanceof Uint8Array)) bad(`expected the file's bytes as a Uint8Array, got ${describe(bytes)}`);
  if (bytes.length < 10) bad(`expected at least 10 bytes (magic string, version, header length), got ${bytes.length}`);
  if (magic.some((b, i) => bytes[i] !== b)) bad(`expected the magic string \\x93NUMPY, got ${showBytes(bytes.subarray(0, 6))}`);
  const major = bytes[6]!, minor = bytes[7]!;
  if (major < 1 || major > 3 || minor !== 0) bad(`expected format version 1.0, 2.0 or 3.0, got ${major}.${minor}`);
  const prefix = major === 1 ? 10 : 12;
  if (bytes.length < prefix) bad(`expected a 4-byte header length in format ${major}.0, got a ${bytes.length}-byte file`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const available = bytes.length - prefix;
  if (headerLength > available) bad(`the header length field says ${headerLength} bytes, but only ${available} bytes follow it`);
  const text = decodeHeaderText(bytes.subarray(prefix, prefix + headerLength), major, bad);
  const { dtype, littleEndian, fortranOrder, shape } = parseHeader(text, bad);

  const count = elementCount(shape)!;
  const expected = count * itemSize[dtype];
  const got = available - headerLength;
  if (got !== expected) {
    const why = got < expected ? 'the file is truncated' : 'extra bytes follow the data';
    bad(`expected ${expected} data bytes for ${dtype}${formatShape(shape)}, got ${got} (${why})`);
  }
  let raw = bytes.subarray(prefix + headerLength);
  if (fortranOrder) raw = reorderBytes(raw, shape, itemSize[dtype], true);
  return { dtype, shape, data: arrayFromBytes(dtype, raw, littleEndian), fortranOrder };
}

/** Latin-1 in formats 1.0 and 2.0, UTF-8 in 3.0. */
function decodeHeaderText(header: Uint8Array, major: number, bad: (why: string) => never): string {
  if (major === 3) {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(header);
    } catch {
      return bad('expected a UTF-8 header in format 3.0, got invalid UTF-8');
    }
  }
  let text = '';
  for (const b of header) text += String.fromCharCode(b);
  return text;
}

interface Header { dtype: NpyDtype; littleEndian: boolean; fortranOrder: boolean; shape: number[] }

/** Checks the header dict: exactly 'descr', 'fortran_order' and 'shape', each of the right kind. */
function parseHeader(text: string, bad: (why: string) => never): Header {
  let dict: PyValue;
  try {
    dict = parsePyLiteral(text);
  } catch (e) {
    if (!(e instanceof PyLiteralError)) throw e;
    return bad(`cannot parse the header ${JSON.stringify(clip(text))}: ${e.message}`);
  }
  if (typeof dict !== 'object' || dict === null || dict.kind !== 'dict') return bad(`expected the header to be a dict, got ${clip(pyRepr(dict))}`);
  const fields = new Map<string, PyValue>();
  for (const [key, value] of dict.entries) {
    if (typeof key !== 'string' || !['descr', 'fortran_order', 'shape'].includes(key)) bad(`expected the header keys 'descr', 'fortran_order' and 'shape', got the key ${clip(pyRepr(key))}`);
    fields.set(key as string, value);
  }
  for (const key of ['descr', 'fortran_order', 'shape']) if (!fields.has(key)) bad(`expected the header to have the key '${key}', got ${clip(text.trim())}`);

  const fortranOrder = fields.get('fortran_order');
  if (typeof fortranOrder !== 'boolean') bad(`expected 'fortran_order' to be True or False, got ${clip(pyRepr(fortranOrder!))}`);
  const shape = fields.get('shape')!;
  if (typeof shape !== 'object' || shape === null || shape.kind !== 'tuple' || !shape.items.every((d) => typeof d === 'number' && d >= 0)) {
    bad(`expected 'shape' to be a tuple of non-negative integers, got ${clip(pyRepr(shape))}`);
  }
  const dims = (shape as { items: readonly PyValue[] }).items as number[];
  if (elementCount(dims) === undefined) bad(`expected 'shape' to have fewer than 2^53 elements, got ${formatShape(dims)}`);
  return { ...parseDescr(fields.get('descr')!, bad), fortranOrder: fortranOrder as boolean, shape: [...dims] };
}

function parseDescr(descr: PyValue, bad: (why: string) => never): { dtype: NpyDtype; littleEndian: boolean } {
  if (typeof descr !== 'string') {
    const structured = typeof descr === 'object' && descr !== null && descr.kind === 'list';
    return bad(`expected 'descr' to be a dtype string such as '<f4', got ${clip(pyRepr(descr))}${structured ? ' (structured arrays are not supported)' : ''}`);
  }
  const match = /^([<>|=]?)([a-zA-Z])(\d+)$/.exec(descr);
  const dtype = match ? dtypeOf[match[2]! + match[3]!] : undefined;
  if (!match || !dtype) {
    const note = descr.includes('O') ? ' (object arrays need pickle, which kiln does not read)' : '';
    return bad(`expected dtype ${supported}, got '${descr}'${note}`);
  }
  const order = match[1]!;
  if (itemSize[dtype] > 1 && order !== '<' && order !== '>') bad(`expected '<' or '>' byte order in descr '${descr}'`);
  return { dtype, littleEndian: order !== '>' };
}

function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function showBytes(bytes: Uint8Array): string {
  return [...bytes].map((b) => `0x${b.toString(16).padStart(2, '0')}`).join(' ');
}

function describe(x: unknown): string {
  return x === null ? 'null' : typeof x === 'object' ? (x.constructor?.name ?? 'an object') : typeof x;
}
