/**
 * Cross-checks with NumPy: Python writes .npy/.npz files that kiln must read
 * exactly, and loads kiln's files and verifies them. Skipped only when no python3
 * can import numpy and KILN_REQUIRE_NUMPY is unset (CI sets it and installs
 * Debian's python3-numpy). KILN_PYTHON picks the interpreter.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import * as io from '../../src/io/index.js';
import type { NpyArray } from '../../src/io/index.js';

function findPython(): string | undefined {
  const candidates = process.env.KILN_PYTHON ? [process.env.KILN_PYTHON] : ['python3', '/usr/bin/python3'];
  return candidates.find((exe) => spawnSync(exe, ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0);
}

const python = findPython();
const required = Boolean(process.env.KILN_REQUIRE_NUMPY);

function runPython(code: string, cwd: string): string {
  const result = spawnSync(python!, ['-c', code], { cwd, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`python failed (${result.status}):\n${result.stderr}`);
  return result.stdout;
}

/** The arrays both sides build: name → dtype, shape, values (int64 as strings in JSON). */
const cases: { name: string; dtype: NpyArray['dtype']; shape: number[]; fortran: boolean }[] = [];
for (const dtype of io.npyDtypes) {
  for (const shape of [[], [0], [7], [2, 3], [2, 3, 4], [4, 0, 2]]) {
    for (const fortran of shape.length >= 2 ? [false, true] : [false]) {
      cases.push({ name: `${dtype}_${shape.length ? shape.join('x') : 'scalar'}${fortran ? '_f' : ''}`, dtype, shape, fortran });
    }
  }
}

/** Values chosen to stress each dtype: fractions, extremes, negative zero, bytes above 127. */
const pythonValues = `
import numpy as np, json
def values(dtype, shape):
    n = int(np.prod(shape))
    i = np.arange(n)
    if dtype == 'float32': v = ((i - 3) / 7).astype(np.float32); v[i % 5 == 4] = np.float32(3.0e38)
    elif dtype == 'float64': v = (i - 3) / 7 + 1e-300 * (i % 2); v[i % 5 == 4] = -0.0
    elif dtype == 'int32': v = ((i * 2654435761) % 2**32 - 2**31).astype(np.int32)
    elif dtype == 'int64': v = ((i - 2) * 3**37).astype(np.int64)
    elif dtype == 'uint8': v = ((i * 37) % 256).astype(np.uint8)
    else: v = (i % 3 == 0)
    return v.reshape(shape)
`;

function expectedData(dtype: NpyArray['dtype'], shape: number[]): NpyArray['data'] {
  const n = shape.reduce((a, b) => a * b, 1);
  const i = Array.from({ length: n }, (_, k) => k);
  switch (dtype) {
    case 'float32': return Float32Array.from(i, (k) => (k % 5 === 4 ? 3.0e38 : (k - 3) / 7));
    case 'float64': return Float64Array.from(i, (k) => (k % 5 === 4 ? -0 : (k - 3) / 7 + 1e-300 * (k % 2)));
    case 'int32': return Int32Array.from(i, (k) => Number((BigInt(k) * 2654435761n) % 2n ** 32n - 2n ** 31n));
    case 'int64': return BigInt64Array.from(i, (k) => BigInt(k - 2) * 3n ** 37n);
    case 'uint8': return Uint8Array.from(i, (k) => (k * 37) % 256);
    case 'bool': return Uint8Array.from(i, (k) => (k % 3 === 0 ? 1 : 0));
  }
}

describe.skipIf(!python && !required)('NumPy interop', () => {
  test('a python3 with numpy is available', () => {
    expect(python, 'KILN_REQUIRE_NUMPY is set but no python3 can import numpy: apt-get install python3-numpy').toBeDefined();
  });

  test('kiln reads what np.save, np.savez and np.savez_compressed write, exactly', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-np-'));
    runPython(`${pythonValues}
cases = json.loads('${JSON.stringify(cases)}')
arrays = {}
for c in cases:
    v = values(c['dtype'], c['shape'])
    if c['fortran']: v = np.asfortranarray(v)
    np.save(c['name'] + '.npy', v)
    arrays[c['name']] = v
np.savez('plain.npz', **arrays)
np.savez_compressed('packed.npz', **arrays)
np.save('big_f8.npy', np.arange(6, dtype='>f8').reshape(2, 3) / 3)
np.save('big_i4.npy', np.asfortranarray(np.arange(-3, 3, dtype='>i4').reshape(3, 2)))
`, dir);
    const plain = io.decodeNpz(readFileSync(join(dir, 'plain.npz')), 'plain.npz');
    const packed = io.decodeNpz(readFileSync(join(dir, 'packed.npz')), 'packed.npz');
    for (const c of cases) {
      const want = { dtype: c.dtype, shape: c.shape, data: expectedData(c.dtype, c.shape) };
      // NumPy writes fortran_order True only for arrays that are not also C-contiguous (so not for empty ones)
      const fortranOrder = c.fortran && want.data.length > 0;
      const got = io.decodeNpy(readFileSync(join(dir, `${c.name}.npy`)), c.name);
      expect(got, c.name).toEqual({ ...want, fortranOrder });
      expect(plain[c.name], `plain.npz/${c.name}`).toEqual({ ...want, fortranOrder });
      expect(packed[c.name], `packed.npz/${c.name}`).toEqual({ ...want, fortranOrder });
    }
    expect(Object.keys(plain).length).toBe(cases.length);
    expect(io.decodeNpy(readFileSync(join(dir, 'big_f8.npy'))).data).toEqual(Float64Array.from([0, 1, 2, 3, 4, 5], (v) => v / 3));
    expect(io.decodeNpy(readFileSync(join(dir, 'big_i4.npy')))).toEqual({ dtype: 'int32', shape: [3, 2], data: new Int32Array([-3, -2, -1, 0, 1, 2]), fortranOrder: true });
  });

  test('np.load reads what kiln writes, exactly, in C and Fortran order', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-np-'));
    const record: Record<string, NpyArray> = {};
    for (const c of cases) {
      const array: NpyArray = { dtype: c.dtype, shape: c.shape, data: expectedData(c.dtype, c.shape), fortranOrder: c.fortran };
      writeFileSync(join(dir, `${c.name}.npy`), io.encodeNpy(array));
      record[c.name] = array;
    }
    writeFileSync(join(dir, 'plain.npz'), io.encodeNpz(record));
    writeFileSync(join(dir, 'packed.npz'), io.encodeNpz(record, { compress: true }));
    const out = runPython(`${pythonValues}
import zipfile
cases = json.loads('${JSON.stringify(cases)}')
plain, packed = np.load('plain.npz'), np.load('packed.npz')
assert sorted(plain.files) == sorted(c['name'] for c in cases), plain.files
assert all(i.compress_type == zipfile.ZIP_STORED for i in zipfile.ZipFile('plain.npz').infolist())
assert all(i.compress_type == zipfile.ZIP_DEFLATED for i in zipfile.ZipFile('packed.npz').infolist())
for c in cases:
    want = values(c['dtype'], c['shape'])
    for got in (np.load(c['name'] + '.npy'), plain[c['name']], packed[c['name']]):
        assert got.dtype == want.dtype, (c, got.dtype)
        assert got.shape == want.shape, (c, got.shape)
        assert np.array_equal(got, want), (c, got, want)
        assert np.array_equal(np.signbit(got), np.signbit(want)) if got.dtype.kind == 'f' else True
        if c['fortran'] and got.size > 1: assert got.flags.f_contiguous and not got.flags.c_contiguous, c
print('verified', len(cases))
`, dir);
    expect(out.trim()).toBe(`verified ${cases.length}`);
  });

  test('kiln writes the bytes np.save writes for a float32 matrix', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-np-'));
    runPython("import numpy as np\nnp.save('m.npy', np.arange(6, dtype='<f4').reshape(2, 3) / 4)", dir);
    const ours = io.encodeNpy({ dtype: 'float32', shape: [2, 3], data: Float32Array.from([0, 1, 2, 3, 4, 5], (v) => v / 4) });
    expect(ours).toEqual(new Uint8Array(readFileSync(join(dir, 'm.npy'))));
  });
});
