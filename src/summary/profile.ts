/**
 * The TensorBoard callback's `profileBatch`: the timed training steps as a
 * Chrome trace (the Trace Event Format's complete events, gzipped) at
 * `<logDir>/plugins/profile/<time>/<host>.trace.json.gz`, where TensorBoard's
 * profile plugin has looked for traces; Perfetto and chrome://tracing open it too.
 */
import { gzipSync } from 'fflate';
import { defaultSink, type LogSink } from './sinks.js';
import { joinPath } from './writer.js';

export interface TraceSpan {
  name: string;
  /** 1-based training batch of the fit. */
  batch: number;
  startMs: number;
  endMs: number;
}

/** `2024_01_31_12_00_00`: the profile plugin's run-folder name. */
function stamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}_${p(d.getMonth() + 1)}_${p(d.getDate())}_${p(d.getHours())}_${p(d.getMinutes())}_${p(d.getSeconds())}`;
}

/**
 * Writes the spans as one trace file; returns its path.
 * @example await writeProfileTrace('logs', [{ name: 'train_step', batch: 1, startMs: 0, endMs: 4.2 }]);
 */
export async function writeProfileTrace(logDir: string, spans: readonly TraceSpan[], sink: LogSink = defaultSink()): Promise<string> {
  const dir = joinPath(logDir, 'plugins', 'profile', stamp(new Date()));
  await sink.makeDir(dir);
  const path = joinPath(dir, `${sink.host}.trace.json.gz`);
  const traceEvents = spans.map((s) => ({ name: s.name, ph: 'X', ts: Math.round(s.startMs * 1000), dur: Math.round((s.endMs - s.startMs) * 1000), pid: sink.pid, tid: 1, args: { batch: s.batch } }));
  await sink.append(path, gzipSync(new TextEncoder().encode(JSON.stringify({ displayTimeUnit: 'ms', traceEvents }))));
  await sink.close(path);
  return path;
}
