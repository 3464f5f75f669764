/** safetensors: byte-for-byte agreement with the reference writer's rules, and the reader's checks. */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import * as kiln from '../../compiler/index.js';
import * as io from '../../src/io/index.js';

const { encodeSafetensors, decodeSafetensors } = io;
const fixture = new URL('../fixtures/io/reference.safetensors', import.meta.url);

/** What the reference writes for a header: length, compact JSON, spaces to a multiple of 8. */
function expectedFile(json: string, data: Uint8Array = new Uint8Array()): Uint8Array {
  const text = new TextEncoder().encode(json);
  const n = Math.ceil(text.length / 8) * 8;
  const out = new Uint8Array(8 + n + data.length).fill(0x20, 8, 8 + n);
  new DataView(out.buffer).setBigUint64(0, BigInt(n), true);
  out.set(text, 8);
  out.set(data, 8 + n);
  return out;
}

function headerKeys(bytes: Uint8Array): string[] {
  const n = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
  return Object.keys(JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as object);
}

const f32 = (values: number[]) => new Uint8Array(new Float32Array(values).buffer);

describe('safetensors writer', () => {
  test('matches the reference on its own examples', () => {
    expect(encodeSafetensors({})).toEqual(new Uint8Array([8, 0, 0, 0, 0, 0, 0, 0, 0x7b, 0x7d, 32, 32, 32, 32, 32, 32]));
    const withMetadata = encodeSafetensors({}, { framework: 'pt' });
    expect(withMetadata).toEqual(expectedFile('{"__metadata__":{"framework":"pt"}}'));
    expect(withMetadata.length).toBe(48);
    const attn = encodeSafetensors({ 'attn.0': { dtype: 'float32', shape: [1, 2, 3], data: new Float32Array([0, 1, 2, 3, 4, 5]) } });
    expect(attn).toEqual(expectedFile('{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}', f32([0, 1, 2, 3, 4, 5])));
    expect(attn[0]).toBe(64); // no padding needed
    const aligned = encodeSafetensors({ attn0: kiln.tensor([0, 1, 2, 3, 4, 5], [1, 1, 2, 3]) });
    expect(aligned[0]).toBe(72); // 65 bytes of JSON and 7 spaces
    expect(aligned.subarray(8 + 65, 8 + 72)).toEqual(new Uint8Array(7).fill(0x20));
  });

  test('sorts by the reference dtype order, descending (I64 before F64), then by name', () => {
    const bytes = encodeSafetensors({
      b: { dtype: 'bool', shape: [1], data: new Uint8Array([1]) },
      u: { dtype: 'uint8', shape: [1], data: new Uint8Array([2]) },
      f: { dtype: 'float64', shape: [1], data: new Float64Array([3]) },
      i: { dtype: 'int64', shape: [1], data: new BigInt64Array([4n]) },
      z: kiln.tensor([5], [1], 'int32'),
      y: kiln.tensor([6]),
      a: kiln.tensor([7]),
    });
    expect(headerKeys(bytes)).toEqual(['i', 'f', 'a', 'y', 'z', 'u', 'b']);
  });

  test('orders names by code point, as Rust does, not by UTF-16 unit', () => {
    const one = { dtype: 'uint8', shape: [], data: new Uint8Array([0]) } as const;
    const bytes = encodeSafetensors({ '\u{1F600}': one, '\uFF21': one, B: one, a: one });
    expect(headerKeys(bytes)).toEqual(['B', 'a', '\uFF21', '\u{1F600}']);
  });

  test('writes the committed reference fixture byte for byte', () => {
    const bytes = encodeSafetensors({
      'b.mask': { dtype: 'bool', shape: [3], data: new Uint8Array([1, 0, 1]) },
      'a.bytes': { dtype: 'uint8', shape: [2, 2], data: new Uint8Array([0, 1, 254, 255]) },
      'z.counts': { dtype: 'int64', shape: [2], data: new BigInt64Array([-1n, 2n ** 40n]) },
      'y.int64': { dtype: 'int64', shape: [1], data: new BigInt64Array([5n]) },
      'a.double': { dtype: 'float64', shape: [], data: new Float64Array([3.5]) },
      'm.float': kiln.tensor([[0.5, -1.25, 2.0], [1e-3, 3.0e38, -0]]),
      'c.empty': kiln.zeros([0]),
      'n.int': kiln.tensor([-7, 2147483647], [2], 'int32'),
    }, { format: 'pt' });
    expect(bytes).toEqual(new Uint8Array(readFileSync(fixture)));
  });
});

describe('safetensors reader', () => {
  test('reads the reference fixture with exact values', () => {
    const { tensors, metadata } = decodeSafetensors(readFileSync(fixture), 'reference.safetensors');
    expect(metadata).toEqual({ format: 'pt' });
    expect(Object.keys(tensors)).toEqual(['y.int64', 'z.counts', 'a.double', 'c.empty', 'm.float', 'n.int', 'a.bytes', 'b.mask']);
    expect(tensors['z.counts']).toEqual({ dtype: 'int64', shape: [2], data: new BigInt64Array([-1n, 2n ** 40n]), fortranOrder: false });
    expect(tensors['a.double']).toEqual({ dtype: 'float64', shape: [], data: new Float64Array([3.5]), fortranOrder: false });
    expect(tensors['m.float']!.data).toEqual(new Float32Array([0.5, -1.25, 2.0, 1e-3, 3.0e38, -0]));
    expect(Object.is(tensors['m.float']!.data[5], -0)).toBe(true);
    expect(tensors['c.empty']).toEqual({ dtype: 'float32', shape: [0], data: new Float32Array(0), fortranOrder: false });
    expect(tensors['n.int']!.data).toEqual(new Int32Array([-7, 2147483647]));
    expect(tensors['a.bytes']).toEqual({ dtype: 'uint8', shape: [2, 2], data: new Uint8Array([0, 1, 254, 255]), fortranOrder: false });
    expect(tensors['b.mask']).toEqual({ dtype: 'bool', shape: [3], data: new Uint8Array([1, 0, 1]), fortranOrder: false });
  });

  test('round-trips every dtype, 0-d and empty shapes', () => {
    const arrays = {
      f: { dtype: 'float32', shape: [2, 0], data: new Float32Array(0), fortranOrder: false },
      d: { dtype: 'float64', shape: [], data: new Float64Array([-1e-300]), fortranOrder: false },
      i: { dtype: 'int32', shape: [3], data: new Int32Array([-2147483648, 0, 2147483647]), fortranOrder: false },
      l: { dtype: 'int64', shape: [1, 2], data: new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n]), fortranOrder: false },
      u: { dtype: 'uint8', shape: [2], data: new Uint8Array([0, 255]), fortranOrder: false },
      b: { dtype: 'bool', shape: [2, 1], data: new Uint8Array([0, 1]), fortranOrder: false },
    } as const;
    const { tensors, metadata } = decodeSafetensors(encodeSafetensors(arrays));
    expect(metadata).toBeUndefined();
    expect(tensors).toEqual(arrays);
  });

  test('reads tensors listed in any order in the header', () => {
    const file = expectedFile('{"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', f32([1, 2]));
    const { tensors } = decodeSafetensors(file);
    expect([tensors.a!.data[0], tensors.b!.data[0]]).toEqual([1, 2]);
  });

  test('refuses files that break the format, saying what was expected', () => {
    const tensorFile = (info: string, data = f32([1, 2])) => expectedFile(`{"t":${info}}`, data);
    const cases: [Uint8Array, string][] = [
      [new Uint8Array(5), 'expected at least the 8-byte header length, got 5 bytes'],
      [expectedFile('{}').subarray(0, 12), 'the header length field says 8 bytes, but only 4 bytes follow it'],
      [new Uint8Array([0, 0, 0, 0, 0, 0, 0, 1]), 'the header length field says 72057594037927936 bytes, more than the format\'s limit of 100000000'],
      [expectedFile('{"t":'), 'expected a JSON header of 8 bytes, got one that does not parse'],
      [expectedFile('[1,2]'), 'expected the header to be a JSON object, got [1,2]'],
      [tensorFile('{"dtype":"F16","shape":[2],"data_offsets":[0,4]}', new Uint8Array(4)), 'expected tensor "t" to have dtype F32, F64, I32, I64, U8 or BOOL, got "F16"'],
      [tensorFile('{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}'), 'expected tensor "t" to have a shape of non-negative integers, got [-2]'],
      [tensorFile('{"dtype":"F32","shape":[2],"data_offsets":[8,0]}'), 'expected tensor "t" to have data_offsets [begin, end] with 0 <= begin <= end, got [8,0]'],
      [tensorFile('{"dtype":"F32","shape":[2],"data_offsets":[0,4]}'), 'expected tensor "t" (F32[2]) to span 8 bytes, got data_offsets [0, 4]'],
      [tensorFile('{"dtype":"F32","shape":[1],"data_offsets":[4,8]}'), 'expected tensor "t" to start at data offset 0, got 4 (a gap before it)'],
      [expectedFile('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', f32([1, 2])), 'expected tensor "b" to start at data offset 8, got 4 (it overlaps the previous tensor)'],
      [tensorFile('{"dtype":"F32","shape":[3],"data_offsets":[0,12]}'), 'the header describes 12 data bytes, but the file holds 8 (the file is truncated)'],
      [tensorFile('{"dtype":"F32","shape":[1],"data_offsets":[0,4]}'), 'the header describes 4 data bytes, but the file holds 8 (extra bytes follow the last tensor)'],
      [expectedFile('{"__metadata__":{"n":1}}'), 'expected "__metadata__" values to be strings, got 1 for "n"'],
    ];
    for (const [bytes, why] of cases) {
      expect(() => decodeSafetensors(bytes, 'w.safetensors')).toThrow(`w.safetensors: not a valid safetensors file: ${why}`);
    }
    const invalidUtf8 = expectedFile('{}');
    invalidUtf8[9] = 0xff;
    expect(() => decodeSafetensors(invalidUtf8)).toThrow(/^decodeSafetensors: not a valid safetensors file: expected a JSON header of 8 bytes, got one that does not parse/);
  });

  test('the writer refuses what the format cannot hold', () => {
    expect(() => encodeSafetensors({ __metadata__: kiln.tensor([1]) })).toThrow('encodeSafetensors: expected tensor names other than "__metadata__", which the format reserves for metadata.');
    expect(() => encodeSafetensors({}, { n: 1 as unknown as string })).toThrow('encodeSafetensors: expected metadata values to be strings, got number for "n".');
    expect(() => encodeSafetensors({ w: { dtype: 'float32', shape: [2], data: new Float32Array(3) } })).toThrow('encodeSafetensors "w": expected 2 values for shape [2], got 3.');
  });
});
