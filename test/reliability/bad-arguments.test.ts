/**
 * Every public function, given arguments of the wrong kind (undefined, null, a
 * number, a string, an empty object or list, NaN, a function…) as its first or
 * second argument, either works or throws a KilnError (KilnRuntimeError in the
 * runtime) — never a raw TypeError or RangeError from deep inside. The namespaces
 * probed are the ones a user calls directly: kiln.* (ops, tracing, compiling,
 * models), kiln.layers, kiln.nn.functional, kiln.losses, kiln.metrics,
 * kiln.optimizers, kiln.callbacks and kiln.preprocessing, the methods of
 * tensors, models, datasets, nn modules and optim optimizers, and kiln/runtime.
 */
import { describe, expect, test } from 'vitest';
import * as kiln from '../../src/index.js';
import { KilnError } from '../../compiler/errors.js';
import { KilnRuntimeError } from '../../src/runtime/errors.js';
import * as runtime from '../../src/runtime/index.js';
import { loadArtifactFile } from '../../src/runtime/node.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const bad: readonly unknown[] = [undefined, null, 42, 'x', {}, [], NaN, -1, [1, 'a'], () => 1];
const show = (v: unknown) => (typeof v === 'function' ? 'a function' : v === undefined ? 'undefined' : JSON.stringify(v));

/** Global settings (they would change the other tests' threads and caches) are left out. */
const settings = new Set(['setThreads', 'setNumThreads', 'setDeterministic', 'setCompilePolicy', 'resetCacheStats']);
/**
 * The IR's shape and type helpers, re-exported for code that works on graphs:
 * they take the compiler's own values on its hot paths and are not checked.
 */
const typeHelpers = new Set(['concreteShape', 'formatParams', 'formatShape', 'formatType', 'hasBatch', 'isElementwise', 'isFloat', 'isStatic', 'sameShape', 'sameType', 'sizeOf', 'stridesOf']);

const functionsOf = (ns: object | undefined): [string, (...a: unknown[]) => unknown][] =>
  Object.entries(ns ?? {}).filter(([name, f]) => typeof f === 'function' && /^[a-z]/.test(name)) as [string, (...a: unknown[]) => unknown][];

/** The calls that escaped as something other than a KilnError. */
async function raw(name: string, f: (...a: unknown[]) => unknown, first?: unknown): Promise<string[]> {
  const found: string[] = [];
  for (const b of bad) {
    const args = first === undefined ? [b] : [first, b];
    try {
      const r = f(...args);
      if (r instanceof Promise) await r;
    } catch (e) {
      if (!(e instanceof KilnError) && !(e instanceof KilnRuntimeError)) found.push(`${name}(${args.map(show).join(', ')}): ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
    }
  }
  return found;
}

describe('bad arguments give KilnErrors', () => {
  const t = kiln.ones([2, 3]);
  const namespaces: [string, object | undefined][] = [
    ['kiln', kiln], ['kiln.layers', kiln.layers], ['kiln.nn.functional', kiln.nn.functional], ['kiln.losses', kiln.losses],
    ['kiln.metrics', kiln.metrics], ['kiln.optimizers', kiln.optimizers], ['kiln.callbacks', kiln.callbacks], ['kiln.preprocessing', kiln.preprocessing],
  ];
  for (const [prefix, ns] of namespaces) {
    test(`${prefix}.*, first argument and second argument after a tensor`, async () => {
      const fns = functionsOf(ns).filter(([name]) => !settings.has(name) && !typeHelpers.has(name));
      expect(fns.length).toBeGreaterThan(prefix === 'kiln' ? 150 : 2);
      const found: string[] = [];
      for (const [name, f] of fns) {
        found.push(...(await raw(`${prefix}.${name}`, f)));
        found.push(...(await raw(`${prefix}.${name}`, f, t)));
      }
      expect(found, found.slice(0, 20).join('\n')).toEqual([]);
    }, 120_000);
  }

  test('kiln.* options and third arguments: after an image and a filter, two matrices, a matrix and a number, an image', async () => {
    const fns = functionsOf(kiln).filter(([name]) => !settings.has(name) && !typeHelpers.has(name));
    const image = kiln.ones([1, 4, 4, 2]), filter = kiln.ones([3, 3, 2, 2]), matrix = kiln.ones([2, 3]);
    const options: unknown[] = [...bad, { strides: 'x' }, { padding: 42 }, { axis: 'x' }];
    const found: string[] = [];
    for (const [name, f] of fns) {
      for (const first of [[image, filter], [matrix, matrix], [matrix, 1], [image]]) {
        for (const b of options) {
          try {
            const r = f(...first, b);
            if (r instanceof Promise) await r;
          } catch (e) {
            if (!(e instanceof KilnError) && !(e instanceof KilnRuntimeError)) found.push(`kiln.${name}(…${first.length} tensors, ${show(b)}): ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
          }
        }
      }
    }
    expect(found, found.slice(0, 20).join('\n')).toEqual([]);
  }, 120_000);

  test('Tensor methods, a compiled model\'s methods, Dataset methods, nn modules and optim optimizers', async () => {
    const found: string[] = [];
    const methods = (o: object, skip: readonly string[] = []) => Object.getOwnPropertyNames(Object.getPrototypeOf(o)).filter((n) => n !== 'constructor' && !skip.includes(n) && typeof (o as Record<string, unknown>)[n] === 'function');
    // setRealized and ownValues are the lazy engine's hooks, not the user's
    for (const m of methods(t, ['setRealized', 'ownValues'])) found.push(...(await raw(`Tensor.${m}`, (...a) => (t as unknown as Record<string, (...b: unknown[]) => unknown>)[m]!(...a))));
    const model = kiln.sequential({ layers: [kiln.layers.dense({ inputShape: [3], units: 2 })] });
    model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
    const quiet = () => undefined;
    for (const m of ['predict', 'evaluate', 'fit', 'trainOnBatch', 'setWeights', 'compile', 'apply', 'summary'] as const) {
      const f = (...a: unknown[]) => (m === 'summary' && a.length === 0 ? quiet : (model[m] as (...b: unknown[]) => unknown).call(model, ...a));
      found.push(...(await raw(`model.${m}`, f)), ...(await raw(`model.${m}`, f, t)));
    }
    const ds = kiln.data.fromArray([1, 2, 3]);
    for (const m of methods(ds)) found.push(...(await raw(`Dataset.${m}`, (...a) => (ds as unknown as Record<string, (...b: unknown[]) => unknown>)[m]!(...a))));
    for (const [k, C] of Object.entries(kiln.nn)) if (typeof C === 'function' && /^[A-Z]/.test(k)) found.push(...(await raw(`nn.${k}`, (a) => new (C as new (x: unknown) => unknown)(a))));
    for (const [k, C] of Object.entries(kiln.optim)) if (typeof C === 'function' && /^[A-Z]/.test(k)) found.push(...(await raw(`optim.${k}`, (a) => new (C as new (x: unknown) => unknown)(a))));
    expect(found, found.slice(0, 20).join('\n')).toEqual([]);
  }, 120_000);

  test('kiln/runtime: its functions, an artifact\'s methods and a module\'s run, set and get', async () => {
    const found: string[] = [];
    for (const [name, f] of functionsOf(runtime).filter(([n]) => !['setThreads', 'installThreads'].includes(n))) {
      found.push(...(await raw(`runtime.${name}`, f)), ...(await raw(`runtime.${name}`, f, new Uint8Array(4))));
    }
    const model = kiln.sequential({ layers: [kiln.layers.dense({ inputShape: [3], units: 2 })] });
    model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
    const file = join(mkdtempSync(join(tmpdir(), 'kiln-bad-args-')), 'model.kiln');
    await model.export(file, { entries: ['predict', 'trainStep'] });
    const artifact = await loadArtifactFile(file);
    const internals = ['named', 'slice', 'checkClasses', 'labels']; // private helpers
    for (const m of Object.getOwnPropertyNames(Object.getPrototypeOf(artifact)).filter((n) => n !== 'constructor' && !internals.includes(n) && typeof (artifact as unknown as Record<string, unknown>)[n] === 'function')) {
      const f = (...a: unknown[]) => (artifact as unknown as Record<string, (...b: unknown[]) => unknown>)[m]!(...a);
      found.push(...(await raw(`Artifact.${m}`, f)), ...(await raw(`Artifact.${m}`, f, new Float32Array(3))));
    }
    for (const m of ['run', 'set', 'get'] as const) {
      const f = (...a: unknown[]) => (artifact.module[m] as (...b: unknown[]) => unknown).call(artifact.module, ...a);
      found.push(...(await raw(`KilnModule.${m}`, f)), ...(await raw(`KilnModule.${m}`, f, 'predict')));
    }
    expect(found, found.slice(0, 20).join('\n')).toEqual([]);
  }, 120_000);

  test('a model\'s compile and fit options of the wrong kind are KilnErrors, at compile or before training', async () => {
    const x = kiln.ones([8, 3]), y = kiln.ones([8, 2]);
    const model = () => kiln.sequential({ layers: [kiln.layers.dense({ inputShape: [3], units: 2 })] });
    for (const optimizer of [42, {}, [], () => 1, 'nadam']) {
      expect(() => model().compile({ optimizer: optimizer as never, loss: 'meanSquaredError' })).toThrow(/^compile: unknown optimizer .*; expected sgd, adam, adamw, rmsprop, adagrad or a kiln\.optimizers object\.$/);
    }
    const m = model();
    m.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
    await expect(m.fit(x, y, { epochs: 1, verbose: 0, callbacks: [null as never] })).rejects.toThrow(/^fit: expected callbacks to be callback objects .*, got null\.$/);
    for (const batchSize of [0, -1, 2.5, null]) await expect(m.evaluate(x, y, { batchSize: batchSize as never })).rejects.toThrow(/^evaluate: expected batchSize to be a positive integer, got /);
  });

  test('PyTorch-style: optimizer options, schedulers and state dicts of the wrong kind', async () => {
    const net = new kiln.nn.Linear(3, 2);
    const x = kiln.ones([4, 3]);
    const found: string[] = [];
    const options: [string, string[]][] = [['SGD', ['lr', 'momentum', 'dampening', 'weightDecay', 'nesterov']], ['Adam', ['lr', 'betas', 'eps', 'weightDecay', 'amsgrad']], ['AdamW', ['lr', 'betas', 'eps', 'weightDecay']], ['RMSprop', ['lr', 'alpha', 'eps', 'momentum', 'centered', 'weightDecay']], ['Adagrad', ['lr', 'lrDecay', 'eps', 'weightDecay', 'initialAccumulatorValue']]];
    for (const [name, keys] of options) {
      const Opt = (kiln.optim as unknown as Record<string, new (p: unknown, o: unknown) => { zeroGrad(): void; step(): Promise<void> }>)[name]!;
      for (const key of keys) {
        found.push(...(await raw(`optim.${name}({ ${key} })`, async (b) => {
          const opt = new Opt(net.parameters(), { [key]: b });
          opt.zeroGrad();
          const loss = kiln.sum(net.forward(x));
          loss.backward();
          await opt.step();
        })));
      }
    }
    found.push(...(await raw('OneCycleLR', (b) => new kiln.optim.lrScheduler.OneCycleLR(new kiln.optim.SGD(net.parameters(), { lr: 0.1 }), b as never))));
    found.push(...(await raw('loadStateDict', (b) => net.loadStateDict(b as never))));
    expect(found, found.slice(0, 20).join('\n')).toEqual([]);
  }, 120_000);

  test('datasets (checked when the pipeline is built, not when it is read), CSV options and image ops\' options', async () => {
    const ds = kiln.data.fromArray([1, 2, 3, 4]);
    const found: string[] = [];
    for (const m of ['batch', 'shuffle', 'take', 'skip', 'repeat', 'map', 'filter', 'prefetch', 'window'] as const) {
      found.push(...(await raw(`Dataset.${m}`, async (b) => {
        const d = (ds[m] as (x: unknown) => kiln.data.Dataset<unknown>).call(ds, b);
        await d.toArray();
      })));
    }
    for (const key of ['delimiter', 'quoteChar', 'hasHeader', 'columnNames', 'columnConfigs', 'configuredColumnsOnly', 'comment', 'naValues', 'inferRows', 'skipErrors', 'onSkip']) {
      found.push(...(await raw(`data.csvFromString({ ${key} })`, async (b) => { await kiln.data.csvFromString('a,b\n1,2\n3,4\n', { [key]: b }).toArray(); })));
    }
    for (const m of ['map', 'filter'] as const) expect(() => (ds[m] as (x: unknown) => unknown).call(ds, 42)).toThrow(new RegExp(`^Dataset\\.${m}: expected a function`));
    const images = kiln.ones([1, 4, 4, 3]);
    for (const [name, f] of functionsOf(kiln.image)) {
      found.push(...(await raw(`image.${name}`, (b) => f(images, 2, b))));
    }
    expect(found, found.slice(0, 20).join('\n')).toEqual([]);
  }, 120_000);

  test('messages name the function and what it got', () => {
    expect(() => kiln.reshape(t, 'x' as never)).toThrow(/^reshape: expected shape to be a list of numbers \(or null for the batch\), got "x"/);
    expect(() => kiln.layers.dense(undefined as never)).toThrow(/^dense: expected an options object, got undefined/);
    expect(() => kiln.optimizers.adam(null as never)).toThrow(/^adam: expected an options object, got null/);
    expect(() => kiln.nn.functional.linear(42 as never, t)).toThrow(/^linear: expected a Tensor as input, got 42/);
    expect(() => kiln.sum(t, {} as never)).toThrow(/^sum: expected an axis or a list of axes, got \{\}/);
    expect(() => kiln.trace(42 as never, [])).toThrow(/^trace: expected a function to trace, got 42/);
    expect(() => kiln.print(null as never)).toThrow('print: expected a graph (from kiln.trace), got null.');
    expect(() => kiln.zerosLike('x' as never)).toThrow(/^zerosLike: expected a Tensor as input, got "x"/);
    expect(() => new kiln.optim.SGD(undefined as never)).toThrow(/^optim\.SGD: expected the parameters to optimize \(model\.parameters\(\)\) or a list of param groups, got undefined/);
  });
});
