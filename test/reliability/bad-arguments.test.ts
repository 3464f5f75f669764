/**
 * Every public function, given arguments of the wrong kind (undefined, null, a
 * number, a string, an empty object or list, NaN, a function…) as its first or
 * second argument, either works or throws a KilnError (KilnRuntimeError in the
 * runtime) — never a raw TypeError or RangeError from deep inside. The namespaces
 * probed are the ones a user calls directly: kiln.* (ops, tracing, compiling,
 * models), kiln.layers, kiln.nn.functional, kiln.losses, kiln.metrics,
 * kiln.optimizers, kiln.callbacks and kiln.preprocessing.
 */
import { describe, expect, test } from 'vitest';
import * as kiln from '../../src/index.js';
import { KilnError } from '../../compiler/errors.js';
import { KilnRuntimeError } from '../../src/runtime/errors.js';

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

  test('messages name the function and what it got', () => {
    expect(() => kiln.reshape(t, 'x' as never)).toThrow(/^reshape: expected shape to be a list of numbers \(or null for the batch\), got "x"/);
    expect(() => kiln.layers.dense(undefined as never)).toThrow(/^dense: expected an options object, got undefined/);
    expect(() => kiln.optimizers.adam(null as never)).toThrow(/^adam: expected an options object, got null/);
    expect(() => kiln.nn.functional.linear(42 as never, t)).toThrow(/^linear: expected a Tensor as input, got 42/);
    expect(() => kiln.sum(t, {} as never)).toThrow(/^sum: expected an axis or a list of axes, got \{\}/);
    expect(() => kiln.trace(42 as never, [])).toThrow(/^trace: expected a function to trace, got 42/);
    expect(() => kiln.print(null as never)).toThrow('print: expected a graph (from kiln.trace), got null.');
    expect(() => kiln.zerosLike('x' as never)).toThrow(/^zerosLike: expected a Tensor as input, got "x"/);
  });
});
