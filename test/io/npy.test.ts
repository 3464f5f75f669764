/** .npy: round trips for every dtype and layout, hand-built headers, and the conversion rules to tensors. */
import { describe, expect, test } from 'vitest';
import * as kiln from '../../compiler/index.js';
import * as io from '../../src/io/index.js';
import type { NpyArray, NpyDtype } from '../../src/io/index.js';

const { encodeNpy, decodeNpy, toTensor, fromTensor, toNpy, fromNpy } = io;

/** A .npy file with the given version and header text (padded as written, no alignment enforced) and data bytes. */
function npyBytes(header: string, data: ArrayLike<number> = [], version = 1): Uint8Array {
  const text = new TextEncoder().encode(header);
  const prefix = version === 1 ? 10 : 12;
  const out = new Uint8Array(prefix + text.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, text.length, true); else view.setUint32(8, text.length, true);
  out.set(text, prefix);
  out.set(data, prefix + text.length);
  return out;
}

const samples: Record<NpyDtype, (n: number) => NpyArray['data']> = {
  float32: (n) => Float32Array.from({ length: n }, (_, i) => i * 1.5 - 3.25),
  float64: (n) => Float64Array.from({ length: n }, (_, i) => Math.PI * (i - 2) + 1e-12),
  int32: (n) => Int32Array.from({ length: n }, (_, i) => (i % 2 ? -1 : 1) * (2 ** 31 - 1 - i)),
  int64: (n) => BigInt64Array.from({ length: n }, (_, i) => (i % 2 ? -1n : 1n) * (2n ** 62n + BigInt(i))),
  uint8: (n) => Uint8Array.from({ length: n }, (_, i) => (i * 37) % 256),
  bool: (n) => Uint8Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 1 : 0)),
};
const shapes: number[][] = [[], [0], [5], [2, 3], [2, 3, 4], [3, 0, 2], [1, 1, 1, 1]];

describe('.npy round trips', () => {
  for (const dtype of io.npyDtypes) {
    test(`${dtype}: every shape, C and Fortran order, gives back the same values`, () => {
      for (const shape of shapes) {
        for (const fortranOrder of [false, true]) {
          const size = shape.reduce((a, b) => a * b, 1);
          const array: NpyArray = { dtype, shape, data: samples[dtype](size), fortranOrder };
          const bytes = encodeNpy(array);
          expect((bytes.length - array.data.byteLength) % 64).toBe(0); // the data starts 64-byte aligned
          const back = decodeNpy(bytes);
          expect(back).toEqual(array);
          expect(back.data.constructor).toBe(array.data.constructor);
        }
      }
    });
  }

  test('writes the header NumPy writes, aligned to 64 bytes', () => {
    const bytes = encodeNpy({ dtype: 'float32', shape: [2, 3], data: new Float32Array(6) });
    const header = new TextDecoder().decode(bytes.subarray(10, 10 + bytes[8]! + 256 * bytes[9]!));
    expect(header).toBe(`{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }${' '.repeat(58)}\n`);
    expect([...bytes.subarray(0, 8)]).toEqual([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    expect(bytes.length).toBe(128 + 24);
    const scalar = encodeNpy({ dtype: 'bool', shape: [], data: new Uint8Array([1]) });
    expect(new TextDecoder().decode(scalar.subarray(10, 128))).toContain("{'descr': '|b1', 'fortran_order': False, 'shape': (), }");
    const vector = encodeNpy({ dtype: 'int64', shape: [3], data: new BigInt64Array(3) });
    expect(new TextDecoder().decode(vector.subarray(10, 128))).toContain("'descr': '<i8', 'fortran_order': False, 'shape': (3,), }");
  });

  test('Fortran order stores columns first', () => {
    const bytes = encodeNpy({ dtype: 'int32', shape: [2, 3], data: new Int32Array([1, 2, 3, 4, 5, 6]) }, { fortranOrder: true });
    expect([...new Int32Array(bytes.slice(128).buffer)]).toEqual([1, 4, 2, 5, 3, 6]);
    expect(new TextDecoder().decode(bytes.subarray(10, 128))).toContain("'fortran_order': True");
  });

  test('switches to format 2.0 when the header outgrows 65535 bytes', () => {
    const shape = new Array(30000).fill(1);
    const bytes = encodeNpy({ dtype: 'uint8', shape, data: new Uint8Array([7]) });
    expect(bytes[6]).toBe(2);
    expect((12 + new DataView(bytes.buffer).getUint32(8, true)) % 64).toBe(0);
    expect(decodeNpy(bytes)).toEqual({ dtype: 'uint8', shape, data: new Uint8Array([7]), fortranOrder: false });
  });
});

describe('.npy headers built by hand', () => {
  const le = (values: number[]) => new Uint8Array(new Float32Array(values).buffer);

  test('reads formats 1.0, 2.0 and 3.0', () => {
    const header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }   \n";
    for (const version of [1, 2, 3]) {
      expect(decodeNpy(npyBytes(header, le([1.5, -2]), version))).toEqual({ dtype: 'float32', shape: [2], data: new Float32Array([1.5, -2]), fortranOrder: false });
    }
  });

  test('reads keys in any order, double quotes, no trailing comma, Python 2 longs and no padding', () => {
    const header = '{"shape": (2L, 1L), "fortran_order": False, "descr": "<i4"}';
    expect(decodeNpy(npyBytes(header, [5, 0, 0, 0, 255, 255, 255, 255]))).toEqual({ dtype: 'int32', shape: [2, 1], data: new Int32Array([5, -1]), fortranOrder: false });
  });

  test('reads big-endian data of every multi-byte dtype', () => {
    const be = (dtype: string, write: (v: DataView) => void, size: number) => {
      const buf = new DataView(new ArrayBuffer(size));
      write(buf);
      return npyBytes(`{'descr': '>${dtype}', 'fortran_order': False, 'shape': (), }\n`, new Uint8Array(buf.buffer));
    };
    expect(decodeNpy(be('f4', (v) => v.setFloat32(0, -1.75), 4)).data).toEqual(new Float32Array([-1.75]));
    expect(decodeNpy(be('f8', (v) => v.setFloat64(0, 1 / 3), 8)).data).toEqual(new Float64Array([1 / 3]));
    expect(decodeNpy(be('i4', (v) => v.setInt32(0, -123456), 4)).data).toEqual(new Int32Array([-123456]));
    expect(decodeNpy(be('i8', (v) => v.setBigInt64(0, -(2n ** 60n)), 8)).data).toEqual(new BigInt64Array([-(2n ** 60n)]));
    expect(decodeNpy(npyBytes("{'descr': '|u1', 'fortran_order': False, 'shape': (2,), }", [0, 255])).data).toEqual(new Uint8Array([0, 255]));
  });

  test('transposes a Fortran-order file to C order', () => {
    // np.asfortranarray([[1, 2, 3], [4, 5, 6]]) stores 1 4 2 5 3 6
    const header = "{'descr': '<i4', 'fortran_order': True, 'shape': (2, 3), }";
    const got = decodeNpy(npyBytes(header, new Uint8Array(new Int32Array([1, 4, 2, 5, 3, 6]).buffer)));
    expect(got).toEqual({ dtype: 'int32', shape: [2, 3], data: new Int32Array([1, 2, 3, 4, 5, 6]), fortranOrder: true });
    const cube = decodeNpy(npyBytes("{'descr': '|u1', 'fortran_order': True, 'shape': (2, 2, 2), }", [0, 4, 2, 6, 1, 5, 3, 7]));
    expect([...cube.data]).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  test('bool bytes other than 0 and 1 read as true', () => {
    expect(decodeNpy(npyBytes("{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }", [0, 2, 255])).data).toEqual(new Uint8Array([0, 1, 1]));
  });
});

describe('tensors and arrays', () => {
  test('float64 narrows to float32, int64 to int32, uint8 widens to int32 or float32', () => {
    const f64 = toTensor({ dtype: 'float64', shape: [2], data: new Float64Array([0.1, 1e300]) });
    expect(f64.dtype).toBe('float32');
    expect([...f64.dataSync()]).toEqual([Math.fround(0.1), Infinity]);
    const i64 = toTensor({ dtype: 'int64', shape: [2, 1], data: new BigInt64Array([-(2n ** 31n), 2n ** 31n - 1n]) });
    expect(i64.dtype).toBe('int32');
    expect(i64.arraySync()).toEqual([[-2147483648], [2147483647]]);
    const u8 = { dtype: 'uint8', shape: [2], data: new Uint8Array([0, 255]) } as const;
    expect(toTensor(u8).dtype).toBe('int32');
    expect(toTensor(u8, { uint8As: 'float32' }).dtype).toBe('float32');
    expect(toTensor(u8, { uint8As: 'float32' }).arraySync()).toEqual([0, 255]);
    const mask = toTensor({ dtype: 'bool', shape: [], data: new Uint8Array([1]) });
    expect([mask.dtype, mask.arraySync()]).toEqual(['bool', true]);
  });

  test('an int64 value outside int32 is refused with its index', () => {
    const big = { dtype: 'int64', shape: [3], data: new BigInt64Array([1n, 2n, 3000000000n]) } as const;
    expect(() => toTensor(big, { name: 'ids.npy' })).toThrow('ids.npy: int64 value 3000000000 at flat index 2 does not fit in int32, the widest integer kiln tensors hold; decode the file to an array to keep int64 values.');
  });

  test('tensors round-trip through .npy bytes with their dtype', () => {
    const cases = [kiln.tensor([[1.5, -2], [3, 4]]), kiln.tensor([1, -2, 3], [3], 'int32'), kiln.tensor([true, false]), kiln.zeros([0, 3]), kiln.tensor(7)];
    for (const t of cases) {
      const back = fromNpy(toNpy(t));
      expect([back.dtype, back.shape, back.arraySync()]).toEqual([t.dtype, t.shape, t.arraySync()]);
    }
    expect(fromTensor(kiln.tensor([1, 2]))).toEqual({ dtype: 'float32', shape: [2], data: new Float32Array([1, 2]), fortranOrder: false });
  });

  test('writers check the array they are given', () => {
    expect(() => encodeNpy({ dtype: 'float32', shape: [3], data: new Float32Array(2) })).toThrow('encodeNpy: expected 3 values for shape [3], got 2.');
    expect(() => encodeNpy({ dtype: 'int64', shape: [1], data: new Int32Array(1) } as never)).toThrow('encodeNpy: expected BigInt64Array data for dtype int64, got Int32Array.');
    expect(() => encodeNpy({ dtype: 'float16', shape: [1], data: new Float32Array(1) } as never)).toThrow('encodeNpy: expected dtype float32, float64, int32, int64, uint8, bool, got "float16".');
    expect(() => encodeNpy({ dtype: 'uint8', shape: [-1], data: new Uint8Array(1) })).toThrow('encodeNpy: expected shape to hold non-negative integers, got [-1].');
  });

  test('a symbolic tensor cannot be saved', () => {
    kiln.trace((x) => {
      expect(() => toNpy(x)).toThrow('encodeNpy: cannot save symbolic tensor of shape [B,3] while tracing; save a concrete tensor instead.');
      return x;
    }, [kiln.spec([null, 3])]);
  });
});
