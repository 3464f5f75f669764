/** The runtime loader: binds inputs by name, refuses bad ones before any wasm runs, keeps parameters between runs. */
import { beforeAll, describe, expect, test } from 'vitest';
import * as kiln from '../../src/index.js';

let m: kiln.KilnModule;
beforeAll(async () => {
  const specs = {
    x: kiln.spec([null, 3]),
    w: kiln.spec([3], 'float32', { kind: 'parameter' }),
    ids: kiln.spec([2], 'int32'),
    table: kiln.spec([4, 3]),
  };
  const step = kiln.trace(({ x, w }: Record<string, kiln.Tensor>) => {
    const loss = kiln.sum(kiln.square(kiln.sub(x!, w!)));
    kiln.assign(w!, kiln.add(w!, kiln.mul(kiln.mean(kiln.sub(x!, w!), 0), 0.5)));
    return { loss };
  }, { x: specs.x, w: specs.w });
  const lookup = kiln.trace(({ ids, table }: Record<string, kiln.Tensor>) => kiln.gather(table!, ids!), { ids: specs.ids, table: specs.table });
  const mask = kiln.trace(({ x }: Record<string, kiln.Tensor>) => kiln.gt(x!, 0), { x: specs.x });
  ({ module: m } = await kiln.compileModule({ step, lookup, mask }, { maxBatch: 4 }));
}, 120_000);

describe('runtime', () => {
  test('keeps parameters in memory and applies updates after each step', () => {
    const x = { data: new Float32Array([1, 2, 3, 3, 2, 1]), shape: [2, 3] };
    expect(Array.from(m.run('step', { x, w: new Float32Array([0, 0, 0]) }).loss!.data)).toEqual([28]);
    expect(Array.from(m.get('w').data)).toEqual([1, 1, 1]); // w + 0.5 · mean(x - w)
    expect(Array.from(m.run('step', { x }).loss!.data)).toEqual([10]); // w kept: ((0,1,2),(2,1,0))² summed
  });

  test('outputs are copies unless views are asked for', () => {
    const x = new Float32Array([1, 2, 3]);
    const copy = m.run('step', { x, w: new Float32Array(3) }).loss!.data;
    const view = m.run('step', { x, w: new Float32Array(3) }, { views: true }).loss!.data;
    m.run('step', { x, w: new Float32Array([1, 2, 3]) });
    expect(Array.from(copy)).toEqual([14]);
    expect(Array.from(view)).toEqual([0]); // overwritten by the last run, as documented
  });

  test('bool outputs come back as 0/1 bytes', () => {
    const out = m.run('mask', { x: new Float32Array([-1, 0, 2]) }).output!;
    expect(out.dtype).toBe('bool');
    expect(Array.from(out.data)).toEqual([0, 0, 1]);
  });

  test('an index out of range is an error message, not a trap or garbage', () => {
    const table = new Float32Array(12).map((_, i) => i);
    expect(Array.from(m.run('lookup', { ids: new Int32Array([3, 0]), table }).output!.data)).toEqual([9, 10, 11, 0, 1, 2]);
    expect(() => m.run('lookup', { ids: new Int32Array([1, 4]), table })).toThrow(/^gather: index 4 is out of range \[0, 4\) on axis 0 \(at test\/api\/runtime\.test\.ts:\d+\)\.$/);
  });

  test('refuses bad inputs with the reason, before running', () => {
    const x = new Float32Array(6);
    expect(() => m.run('step', {})).toThrow('kiln runtime: missing input "x" (f32[B,3]).');
    expect(() => m.run('step', { x: new Int32Array(6) })).toThrow('kiln runtime: input "x" expected float32 data (f32[B,3]), got Int32Array.');
    expect(() => m.run('step', { x: { data: x, shape: [3, 2] } })).toThrow('kiln runtime: input "x" expected shape f32[B,3], got f32[3,2].');
    expect(() => m.run('step', { x: new Float32Array(7) })).toThrow('kiln runtime: input "x" has 7 values, not a whole number of f32[B,3] rows.');
    expect(() => m.run('step', { x: new Float32Array(15) })).toThrow('kiln runtime: input "x" has batch size 5; this module runs batches of 1 to 4.');
    expect(() => m.run('step', { x, y: x })).toThrow('kiln runtime: unknown input "y"; inputs are "x", "w".');
    expect(() => m.run('train', { x })).toThrow('kiln runtime: no entry point "train"; the module has "step", "lookup", "mask".');
  });

  test('an entry that returns a parameter it also updates is refused with the way out', async () => {
    const g = kiln.trace((w: kiln.Tensor) => {
      kiln.assign(w, kiln.mul(w, 2));
      return { old: w };
    }, [kiln.spec([2], 'float32', { kind: 'parameter', name: 'w' })]);
    await expect(kiln.compileModule({ g })).rejects.toThrow('compile: entry "g" returns "w" unchanged as output "old" and also updates it; read it with module.get("w") instead.');
  });

  test('a maxBatch too large for wasm memory says how much memory it would need', async () => {
    const big = kiln.trace((x: kiln.Tensor) => kiln.exp(x), [kiln.spec([null, 1 << 20])]);
    await expect(kiln.compileModule({ big }, { maxBatch: 5000 })).rejects.toThrow('compile: the module needs 41943040000 bytes of memory at maxBatch 5000; WebAssembly memory holds at most 4 GiB, so use a smaller maxBatch.');
  });
});

describe('kiln.compile', () => {
  test('traces once per signature and runs in wasm', async () => {
    let traces = 0;
    const f = kiln.compile((x: kiln.Tensor) => {
      traces++;
      return kiln.relu(kiln.sub(x, 1));
    });
    expect((await f(kiln.tensor([0, 2, 3])) as kiln.Tensor).arraySync()).toEqual([0, 1, 2]);
    expect((await f(kiln.tensor([5, -2, 1])) as kiln.Tensor).arraySync()).toEqual([4, 0, 0]);
    expect(traces).toBe(1);
    await f(kiln.tensor([[1]]));
    expect(traces).toBe(2);
  });
});
