/**
 * kiln.setDeterministic: deterministic mode (the default) always builds the plain
 * SIMD kernels; turned off, modules compiled afterwards use relaxed SIMD's fused
 * multiply-add where the engine validates it. This file also runs in the vitest
 * project "relaxed-simd" (Node with relaxed SIMD on), where the relaxed build is
 * really chosen; in the default project Node 20 has no relaxed SIMD and turning
 * determinism off must change nothing.
 */
import { afterEach, describe, expect, test } from 'vitest';
import * as kiln from '../../src/index.js';
import { relaxedSimdSupported } from '../../src/runtime/wasm.js';
import { testsRelaxedKernels } from '../util/kernels.js';

afterEach(() => kiln.setDeterministic(true));

const relaxedHere = testsRelaxedKernels();
const bits = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');

/** A matmul and a convolution compiled in the current mode: their outputs and the binary. */
async function run() {
  const g = kiln.trace((a, b, x, w) => ({ mm: kiln.matmul(a, b), conv: kiln.conv2d(x, w, { padding: 'same' }) }),
    [kiln.spec([67, 131]), kiln.spec([131, 45]), kiln.spec([2, 13, 11, 7]), kiln.spec([3, 3, 7, 19])]);
  const values = (shape: number[], seed: number) => kiln.randomNormal(shape, { seed }).dataSync() as Float32Array;
  const inputs = { input_0: values([67, 131], 1), input_1: values([131, 45], 2), input_2: values([2, 13, 11, 7], 3), input_3: values([3, 3, 7, 19], 4) };
  const compiled = await kiln.compileModule({ run: g });
  const out = compiled.module.run('run', inputs);
  return { mm: out.mm!.data.slice() as Float32Array, conv: out.conv!.data.slice() as Float32Array, binary: compiled.binary };
}

const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

describe('setDeterministic', () => {
  test('is on by default; bad values are KilnErrors that name the function', () => {
    expect(kiln.getDeterministic()).toBe(true);
    expect(() => kiln.setDeterministic('no' as never)).toThrow('setDeterministic: expected true or false, got "no".');
    expect(() => kiln.setDeterministic(undefined as never)).toThrow('setDeterministic: expected true or false, got undefined.');
    expect(() => kiln.setDeterministic(0 as never)).toThrow('setDeterministic: expected true or false, got 0.');
    kiln.setDeterministic(false);
    expect(kiln.getDeterministic()).toBe(false);
  });

  test('off: relaxed SIMD where the engine has it, else the same module; results agree within rounding', async () => {
    expect(relaxedSimdSupported()).toBe(relaxedHere);
    const plain = await run();
    kiln.setDeterministic(false);
    const relaxed = await run();
    if (relaxedHere) {
      // the fused multiply-add rounds once where mul then add rounds twice: some bits differ
      expect(bits(relaxed.binary)).not.toBe(bits(plain.binary));
      expect(bits(relaxed.mm) === bits(plain.mm) && bits(relaxed.conv) === bits(plain.conv)).toBe(false);
      expect(maxDiff(relaxed.mm, plain.mm)).toBeLessThan(2e-5 * 131);
      expect(maxDiff(relaxed.conv, plain.conv)).toBeLessThan(2e-5 * 63);
    } else {
      expect(bits(relaxed.binary)).toBe(bits(plain.binary));
      expect(bits(relaxed.mm)).toBe(bits(plain.mm));
      expect(bits(relaxed.conv)).toBe(bits(plain.conv));
    }
    kiln.setDeterministic(true);
    const again = await run();
    expect(bits(again.mm)).toBe(bits(plain.mm)); // deterministic mode is back to the plain build
  });
});
