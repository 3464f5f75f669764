/** planMemory: slots never overlap while both values are live; inputs are shared by name. */
import { describe, expect, test } from 'vitest';
import * as kiln from '../../compiler/index.js';
import { planMemory, PREPACK_MAX_BYTES, PREPACK_MIN } from '../../compiler/plan.js';
import { optimize } from '../../compiler/pipeline.js';

describe('planMemory', () => {
  const g = optimize(kiln.autodiff(kiln.trace((x: kiln.Tensor, w: kiln.Tensor) => kiln.sum(kiln.tanh(kiln.matmul(kiln.relu(kiln.matmul(x, w)), w, { transposeB: true }))),
    [kiln.spec([null, 8], 'float32', { name: 'x' }), kiln.spec([8, 8], 'float32', { name: 'w', kind: 'parameter' })]), { of: 'output', wrt: ['w'] }));

  test('no two values live at once share a byte, at the maximum batch', () => {
    const plan = planMemory([g], { maxBatch: 16 });
    const slots = plan.entries[0]!.slots;
    const last = g.nodes.map((n) => Math.max(n.id, ...g.nodes.filter((m) => m.inputs.includes(n.id)).map((m) => m.id)));
    for (const o of g.outputs) last[o.id] = Infinity;
    const views = new Set(['reshape', 'stopGradient', 'customVjp']);
    for (const a of g.nodes) {
      for (const b of g.nodes) {
        if (a.id >= b.id || views.has(a.op) || views.has(b.op)) continue;
        // a fused loop may take over an input that dies at it: element i is read before it is written
        const inPlace = b.op === 'fused' && last[a.id] === b.id && b.inputs.includes(a.id);
        const overlapInTime = b.id <= last[a.id]! && !inPlace;
        const [sa, sb] = [slots[a.id]!, slots[b.id]!];
        const overlapInSpace = sa.offset < sb.offset + sb.bytes && sb.offset < sa.offset + sa.bytes;
        expect(overlapInTime && overlapInSpace, `%${a.id} and %${b.id}`).toBe(false);
      }
    }
    expect(slots[g.nodes.find((n) => n.op === 'matmul')!.id]!.bytes).toBe(16 * 8 * 4);
    expect(plan.arenaBytes).toBe(plan.fixedBytes + plan.entries[0]!.peakBytes);
  });

  test('reuses memory: the arena is smaller than one buffer per value, and some loops work in place', () => {
    const plan = planMemory([g], { maxBatch: 16 });
    const slots = plan.entries[0]!.slots;
    const total = slots.reduce((a, s) => a + s.bytes, 0);
    expect(plan.arenaBytes).toBeLessThan(total);
    const inPlace = g.nodes.filter((n) => n.op === 'fused' && n.inputs.some((i) => slots[i]!.offset === slots[n.id]!.offset));
    expect(inPlace.length).toBeGreaterThan(0);
  });

  test('entries share inputs by name and overlay their scratch', () => {
    const predict = optimize(kiln.trace((x: kiln.Tensor, w: kiln.Tensor) => kiln.matmul(x, w), [kiln.spec([null, 8], 'float32', { name: 'x' }), kiln.spec([8, 8], 'float32', { name: 'w', kind: 'parameter' })]));
    const plan = planMemory([g, predict], { maxBatch: 4 });
    const w = (graph: kiln.Graph, e: number) => plan.entries[e]!.slots[graph.inputs.find((i) => i.name === 'w')!.id]!.offset;
    expect(w(g, 0)).toBe(w(predict, 1));
    expect(plan.arenaBytes).toBe(plan.fixedBytes + Math.max(plan.entries[0]!.peakBytes, plan.entries[1]!.peakBytes));
  });
});

test('an SGD update writes the new parameter straight over the old one', async () => {
  const { compileEntries } = await import('../../compiler/pipeline.js');
  const step = kiln.trace((x: kiln.Tensor, w: kiln.Tensor) => {
    const { value, grad } = kiln.valueAndGrad((v: kiln.Tensor) => kiln.sum(kiln.square(kiln.matmul(x, v))))(w);
    kiln.assign(w, kiln.sub(w, kiln.mul(grad, 0.1)));
    return value;
  }, [kiln.spec([null, 4], 'float32', { name: 'x' }), kiln.spec([4, 3], 'float32', { name: 'w', kind: 'parameter' })]);
  const c = await compileEntries({ step }, { maxBatch: 8 });
  const [entry] = c.entries;
  const w = entry!.graph.inputs.find((i) => i.name === 'w')!.id;
  expect(entry!.plan.slots[entry!.graph.updates[0]!.id]!.offset).toBe(entry!.plan.slots[w]!.offset);
  expect(c.source).not.toContain('memory.copy');
});

describe('update groups', () => {
  // an MLP step with momentum: m ← 0.9 m + g and w ← w − lr · m for every parameter
  const names = ['w1', 'b1', 'w2', 'b2'];
  const shapes: Record<string, number[]> = { w1: [5, 7], b1: [7], w2: [7, 3], b2: [3] };
  const specs = {
    x: kiln.spec([null, 5]), y: kiln.spec([null], 'int32'), lr: kiln.spec([], 'float32', { kind: 'scalar' }),
    ...Object.fromEntries(names.map((n) => [n, kiln.spec(shapes[n]!, 'float32', { kind: 'parameter' })])),
    ...Object.fromEntries(names.map((n) => [`m_${n}`, kiln.spec(shapes[n]!, 'float32', { kind: 'state' })])),
  };
  const step = kiln.trace((t: Record<string, kiln.Tensor>) => {
    const forward = (w1: kiln.Tensor, b1: kiln.Tensor, w2: kiln.Tensor, b2: kiln.Tensor) =>
      kiln.sparseCategoricalCrossentropy(t.y!, kiln.add(kiln.matmul(kiln.relu(kiln.add(kiln.matmul(t.x!, w1), b1)), w2), b2), { fromLogits: true });
    const { value, grad } = kiln.valueAndGrad(forward, [0, 1, 2, 3])(...names.map((n) => t[n]!));
    names.forEach((n, i) => {
      const m = kiln.add(kiln.mul(t[`m_${n}`]!, 0.9), grad[i]!);
      kiln.assign(t[`m_${n}`]!, m);
      kiln.assign(t[n]!, kiln.sub(t[n]!, kiln.mul(m, t.lr!)));
    });
    return { loss: value };
  }, specs);

  test('all momentum updates and all weight updates run as one loop each, matching the interpreter', async () => {
    const { compileModule } = await import('../../src/compile.js');
    const c = await compileModule({ step }, { maxBatch: 8 });
    expect(c.source.match(/one loop over/g)?.length).toBe(2);
    expect(c.entries[0]!.plan.groups.map((gr) => gr.members.length)).toEqual([4, 4]);
    const rng = (seed: number, shape: number[]) => kiln.randomNormal(shape, { seed }).value!;
    const inputs: Record<string, kiln.Value> = {
      x: rng(1, [6, 5]), y: kiln.tensor([0, 1, 2, 1, 0, 2], undefined, 'int32').value!, lr: kiln.tensor(0.1).value!,
      ...Object.fromEntries(names.map((n, i) => [n, rng(10 + i, shapes[n]!)])),
      ...Object.fromEntries(names.map((n, i) => [`m_${n}`, rng(20 + i, shapes[n]!)])),
    };
    const want = kiln.interpret(step, inputs);
    const got = c.module.run('step', inputs);
    expect(Math.abs(got.loss!.data[0]! - want.outputs.loss!.data[0]!)).toBeLessThan(1e-5);
    for (const name of [...names, ...names.map((n) => `m_${n}`)]) {
      const have = c.module.get(name).data;
      want.updates[name]!.data.forEach((v, i) => expect(Math.abs(have[i]! - v), `${name}[${i}]`).toBeLessThan(1e-5));
    }
  });
});

describe('prepacked weights in the plan', () => {
  const predict = (rows: number, cols: number, options: { transposeB?: boolean } = {}) => optimize(kiln.trace((x: kiln.Tensor, w: kiln.Tensor) => kiln.matmul(x, w, options),
    [kiln.spec([null, options.transposeB ? cols : rows], 'float32', { name: 'x' }), kiln.spec([rows, cols], 'float32', { name: 'w', kind: 'parameter' })]));

  test('a large parameter multiplied in an entry without updates gets one persistent buffer, shared by every entry that reads it so', () => {
    const plan = planMemory([predict(256, 100), predict(256, 100)], { maxBatch: 16 });
    expect([...plan.packs.keys()]).toEqual(['w']);
    const slot = plan.packs.get('w')!;
    expect(slot.bytes).toBe(64 + 104 * 256 * 4); // 100 columns in panels of 8, all of k
    expect(slot.offset + slot.bytes).toBeLessThanOrEqual(plan.fixedBytes); // persistent, before the scratch
    for (const e of plan.entries) expect([...e.packs.values()]).toEqual([slot]);
    expect([...planMemory([predict(100, 256, { transposeB: true })], { maxBatch: 16 }).packs.keys()]).toEqual(['w transposed']);
  });

  test('none below PREPACK_MIN floats, at 4 rows or fewer, in a training entry, or past PREPACK_MAX_BYTES', () => {
    expect(PREPACK_MIN).toBe(1 << 14);
    expect(planMemory([predict(127, 128)], { maxBatch: 16 }).packs.size).toBe(0); // 16,256 floats
    expect(planMemory([predict(128, 128)], { maxBatch: 16 }).packs.size).toBe(1);
    expect(planMemory([predict(128, 128)], { maxBatch: 4 }).packs.size).toBe(0); // the few-rows path packs nothing
    const step = optimize(kiln.trace((x: kiln.Tensor, w: kiln.Tensor) => {
      kiln.assign(w, kiln.mul(w, 0.5));
      return kiln.matmul(x, w);
    }, [kiln.spec([null, 128], 'float32', { name: 'x' }), kiln.spec([128, 128], 'float32', { name: 'w', kind: 'parameter' })]));
    expect(planMemory([step], { maxBatch: 16 }).packs.size).toBe(0);
    const huge = Math.ceil(Math.sqrt(PREPACK_MAX_BYTES / 4)) + 8; // one weight past the cap: planned, never allocated here
    expect(planMemory([predict(huge, huge)], { maxBatch: 16 }).packs.size).toBe(0);
  });
});
