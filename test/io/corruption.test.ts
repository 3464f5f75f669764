/** Damaged files: every truncation and many byte flips give a KilnError that names the file, never a RangeError or TypeError. */
import { describe, expect, test } from 'vitest';
import { KilnError } from '../../compiler/index.js';
import * as io from '../../src/io/index.js';

/** Runs `decode`; it may succeed (a flip can leave a valid file) but may throw only a KilnError naming `name`. */
function expectKilnErrorOrValue(decode: () => unknown, name: string, label: string): 'ok' | 'error' {
  try {
    decode();
    return 'ok';
  } catch (e) {
    if (!(e instanceof KilnError)) throw new Error(`${label}: expected a KilnError, got ${(e as Error).name}: ${(e as Error).message}`);
    expect(e.message.startsWith(`${name}: `) || e.message.startsWith(`${name}/`), `${label}: ${e.message}`).toBe(true);
    return 'error';
  }
}

const arrays = {
  w: { dtype: 'float32', shape: [3, 4], data: Float32Array.from({ length: 12 }, (_, i) => i / 7), fortranOrder: true },
  n: { dtype: 'int64', shape: [2], data: new BigInt64Array([1n, -1n]) },
  m: { dtype: 'bool', shape: [], data: new Uint8Array([1]) },
} as const;

const formats = {
  npy: { bytes: io.encodeNpy(arrays.w), decode: (b: Uint8Array) => io.decodeNpy(b, 'x.npy'), name: 'x.npy' },
  npz: { bytes: io.encodeNpz(arrays), decode: (b: Uint8Array) => io.decodeNpz(b, 'x.npz'), name: 'x.npz' },
  npzCompressed: { bytes: io.encodeNpz(arrays, { compress: true }), decode: (b: Uint8Array) => io.decodeNpz(b, 'x.npz'), name: 'x.npz' },
  safetensors: { bytes: io.encodeSafetensors(arrays, { a: 'b' }), decode: (b: Uint8Array) => io.decodeSafetensors(b, 'x.safetensors'), name: 'x.safetensors' },
};

describe('corruption sweep', () => {
  for (const [format, { bytes, decode, name }] of Object.entries(formats)) {
    test(`${format}: every truncation is refused with a KilnError`, () => {
      for (let n = 0; n < bytes.length; n++) {
        expect(expectKilnErrorOrValue(() => decode(bytes.slice(0, n)), name, `truncated at ${n}`)).toBe('error');
      }
    });

    test(`${format}: flipped bytes give a KilnError or a valid result, nothing else`, () => {
      let errors = 0;
      for (let i = 0; i < Math.min(bytes.length, 400); i++) {
        for (const mask of [0x01, 0x20, 0x80, 0xff]) {
          const damaged = bytes.slice();
          damaged[i]! ^= mask;
          if (expectKilnErrorOrValue(() => decode(damaged), name, `byte ${i} ^ 0x${mask.toString(16)}`) === 'error') errors++;
        }
      }
      expect(errors).toBeGreaterThan(0);
    });

    test(`${format}: one extra byte is refused (a zip archive tolerates it)`, () => {
      const longer = new Uint8Array(bytes.length + 1);
      longer.set(bytes);
      const outcome = expectKilnErrorOrValue(() => decode(longer), name, 'one extra byte');
      expect(outcome).toBe(format.startsWith('npz') ? 'ok' : 'error');
    });
  }
});

describe('.npy header damage, with the reason', () => {
  const good = io.encodeNpy({ dtype: 'float32', shape: [2], data: new Float32Array([1, 2]) });
  const withHeader = (header: string, data: ArrayLike<number> = new Uint8Array(8)) => {
    const text = new TextEncoder().encode(header);
    const out = new Uint8Array(10 + text.length + data.length);
    out.set(good.subarray(0, 8));
    new DataView(out.buffer).setUint16(8, text.length, true);
    out.set(text, 10);
    out.set(data, 10 + text.length);
    return out;
  };
  const cases: [Uint8Array, string][] = [
    [good.subarray(0, 9), 'expected at least 10 bytes (magic string, version, header length), got 9'],
    [Uint8Array.from(good, (b, i) => (i === 1 ? 0x6e : b)), 'expected the magic string \\x93NUMPY, got 0x93 0x6e 0x55 0x4d 0x50 0x59'],
    [Uint8Array.from(good, (b, i) => (i === 6 ? 4 : b)), 'expected format version 1.0, 2.0 or 3.0, got 4.0'],
    [Uint8Array.from(good, (b, i) => (i === 7 ? 1 : b)), 'expected format version 1.0, 2.0 or 3.0, got 1.1'],
    [Uint8Array.from(good, (b, i) => (i === 8 ? 0xff : i === 9 ? 0xff : b)), 'the header length field says 65535 bytes, but only 126 bytes follow it'],
    [good.subarray(0, 100), 'the header length field says 118 bytes, but only 90 bytes follow it'],
    [good.subarray(0, 130), 'expected 8 data bytes for float32[2], got 2 (the file is truncated)'],
    [withHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'extra': 1}"), "expected the header keys 'descr', 'fortran_order' and 'shape', got the key 'extra'"],
    [withHeader("{'descr': '<f4', 'shape': (2,)}"), "expected the header to have the key 'fortran_order', got {'descr': '<f4', 'shape': (2,)}"],
    [withHeader("{'descr': '<f2', 'fortran_order': False, 'shape': (2,)}"), "expected dtype float32 (<f4), float64 (<f8), int32 (<i4), int64 (<i8), uint8 (|u1) or bool (|b1), little- or big-endian, got '<f2'"],
    [withHeader("{'descr': '|O', 'fortran_order': False, 'shape': (2,)}"), "expected dtype float32 (<f4), float64 (<f8), int32 (<i4), int64 (<i8), uint8 (|u1) or bool (|b1), little- or big-endian, got '|O' (object arrays need pickle, which kiln does not read)"],
    [withHeader("{'descr': [('x', '<f4')], 'fortran_order': False, 'shape': (2,)}"), "expected 'descr' to be a dtype string such as '<f4', got [('x', '<f4')] (structured arrays are not supported)"],
    [withHeader("{'descr': '|f4', 'fortran_order': False, 'shape': (2,)}"), "expected '<' or '>' byte order in descr '|f4'"],
    [withHeader("{'descr': '<f4', 'fortran_order': 0, 'shape': (2,)}"), "expected 'fortran_order' to be True or False, got 0"],
    [withHeader("{'descr': '<f4', 'fortran_order': False, 'shape': [2]}"), "expected 'shape' to be a tuple of non-negative integers, got [2]"],
    [withHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (2, -1)}"), "expected 'shape' to be a tuple of non-negative integers, got (2, -1)"],
    [withHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (2.5,)}"), "cannot parse the header \"{'descr': '<f4', 'fortran_order': False, 'shape': (2.5,)}\": expected an integer (floats and complex numbers are not supported) at character 51, got \"2.5,)}\""],
    [withHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999, 99999999, 99999999)}"), "expected 'shape' to have fewer than 2^53 elements, got [99999999,99999999,99999999]"],
    [withHeader("{'descr': '<f4' 'fortran_order': False}"), `cannot parse the header "{'descr': '<f4' 'fortran_order': False}": expected ',' or '}' at character 16, got "'fortran_ord"`],
    [withHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)} x"), `cannot parse the header "{'descr': '<f4', 'fortran_order': False, 'shape': (2,)} x": expected the end of the literal at character 56, got "x"`],
    [withHeader("(1, 2)"), 'expected the header to be a dict, got (1, 2)'],
    [withHeader('['.repeat(5000)), `cannot parse the header "${'['.repeat(77)}...": expected at most 32 levels of nesting at character 33`],
    [withHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", new Uint8Array(9)), 'expected 8 data bytes for float32[2], got 9 (extra bytes follow the data)'],
  ];
  test('each damaged header says what was expected', () => {
    for (const [bytes, why] of cases) expect(() => io.decodeNpy(bytes, 'bad.npy')).toThrow(`bad.npy: not a valid .npy file: ${why}`);
  });

  test('a format 3.0 header must be UTF-8', () => {
    const bytes = new Uint8Array([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 3, 0, 2, 0, 0, 0, 0xc3, 0x28]);
    expect(() => io.decodeNpy(bytes)).toThrow('decodeNpy: not a valid .npy file: expected a UTF-8 header in format 3.0, got invalid UTF-8.');
  });

  test('a .npz that is not a zip says so', () => {
    expect(() => io.decodeNpz(good, 'a.npz')).toThrow('a.npz: not a valid .npz file: expected a zip archive starting with "PK" (0x50 0x4b), got 0x93 0x4e.');
    const zip = io.encodeNpz({ x: { dtype: 'uint8', shape: [1], data: new Uint8Array([1]) } });
    expect(() => io.decodeNpz(zip.subarray(0, zip.length - 10), 'a.npz')).toThrow(/^a\.npz: not a valid \.npz file: the zip archive is damaged \(.+\)\.$/);
  });
});
