/**
 * Workers that never start (here: a worker class that drops every message) must
 * not hang or change a result: runs go on on one thread with the same bits, and
 * after 10 s kiln warns once. Its own file: it installs a broken pool.
 */
import { afterAll, expect, test, vi } from 'vitest';
import * as kiln from '../../src/index.js';
import { useNodeWorkers } from '../../src/runtime/threads.js';

afterAll(() => vi.useRealTimers());

test('workers that never start: one thread, the same bits, and one warning after 10 s', async () => {
  const g = kiln.trace((a, b) => kiln.relu(kiln.matmul(a, b)), [kiln.spec([64, 256]), kiln.spec([256, 256])]);
  const a = kiln.randomNormal([64, 256], { seed: 1 }).dataSync() as Float32Array;
  const b = kiln.randomNormal([256, 256], { seed: 2 }).dataSync() as Float32Array;
  const bits = (x: ArrayBufferView) => Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString('base64');
  kiln.setThreads(1);
  const one = (await kiln.compileModule({ run: g })).module;
  const want = bits(one.run('run', { input_0: a, input_1: b }).output!.data);

  useNodeWorkers(class { postMessage(): void {} terminate(): void {} } as never);
  kiln.setThreads(3);
  const { module, manifest } = await kiln.compileModule({ run: g });
  expect(manifest.entries.run!.thread).toBe(0); // a module the threads would share
  const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
  expect(bits(module.run('run', { input_0: a, input_1: b }).output!.data)).toBe(want);
  expect(module.threadCount).toBe(1);
  expect(warn).not.toHaveBeenCalled();
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(Date.now() + 11_000);
  for (let k = 0; k < 3; k++) expect(bits(module.run('run', { input_0: a, input_1: b }).output!.data)).toBe(want);
  expect(warn).toHaveBeenCalledTimes(1);
  expect(String(warn.mock.calls[0]![0])).toMatch(/worker thread 1 has not started after 10 s; runs go on on one thread \(the same results, slower\)/);
});
