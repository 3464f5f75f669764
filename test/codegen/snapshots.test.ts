/**
 * Emitted AssemblyScript for small models, committed as snapshots: a refactor of
 * the passes or the emitter should leave them unchanged (update them with
 * `npx vitest run test/codegen/snapshots.test.ts -u` when a change is meant).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import * as kiln from '../../compiler/index.js';
import { emitAssemblyScript } from '../../compiler/emit/index.js';
import { optimize } from '../../compiler/pipeline.js';
import { planMemory } from '../../compiler/plan.js';

const library = new Map<string, string>();
for (const file of readdirSync('runtime-as').filter((f) => f.endsWith('.ts'))) {
  for (const m of readFileSync(join('runtime-as', file), 'utf8').matchAll(/export\s+function\s+(\w+)/g)) library.set(m[1]!, `runtime-as/${file}`);
}

function emit(graphs: Record<string, kiln.Graph>, maxBatch = 32): string {
  const optimized = Object.values(graphs).map(optimize);
  const plan = planMemory(optimized, { maxBatch });
  // origins name this file's lines, which move with every edit: leave them out of the snapshot
  return emitAssemblyScript(Object.keys(graphs).map((name, i) => ({ name, graph: optimized[i]!, plan: plan.entries[i]! })), library).source.replace(/ {2}\(test\/[^)]*\)/g, '');
}

describe('emitted AssemblyScript', () => {
  test('a dense layer: GEMM with a bias+relu epilogue, then a scaled softmax', () => {
    const g = kiln.trace((x: kiln.Tensor, w: kiln.Tensor, b: kiln.Tensor) => kiln.softmax(kiln.mul(kiln.relu(kiln.add(kiln.matmul(x, w), b)), 2)),
      [kiln.spec([null, 8], 'float32', { name: 'x' }), kiln.spec([8, 4], 'float32', { name: 'w', kind: 'parameter' }), kiln.spec([4], 'float32', { name: 'b', kind: 'parameter' })]);
    expect(emit({ predict: g })).toMatchFileSnapshot('snapshots/dense-softmax.ts.snap');
  });

  test('an SGD step of a linear model: forward, gradients, in-place update', () => {
    const g = kiln.trace((x: kiln.Tensor, y: kiln.Tensor, w: kiln.Tensor) => {
      const { value, grad } = kiln.valueAndGrad((v: kiln.Tensor) => kiln.meanSquaredError(y, kiln.matmul(x, v)))(w);
      kiln.assign(w, kiln.sub(w, kiln.mul(grad, 0.01)));
      return value;
    }, [kiln.spec([null, 3], 'float32', { name: 'x' }), kiln.spec([null, 1], 'float32', { name: 'y' }), kiln.spec([3, 1], 'float32', { name: 'w', kind: 'parameter' })]);
    expect(emit({ trainStep: g })).toMatchFileSnapshot('snapshots/linear-sgd.ts.snap');
  });
});
