/**
 * The progress display of `fit({ verbose: 1 })`, after Keras' ProgbarLogger:
 *
 *   Epoch 1/5
 *   [=========>....................] 45/125 - ETA: 3s - loss: 0.5123 - accuracy: 0.8100
 *
 * redrawn in place (carriage return) while stdout is a terminal, and finished with
 * the epoch's time and all its logs (validation included):
 *
 *   [==============================] 125/125 - 2s 16ms/step - loss: 0.4012 - accuracy: 0.8800 - val_loss: 0.3900
 *
 * Elsewhere (a pipe, a file, CI logs, a browser) it prints one plain line per
 * epoch, with no carriage returns:
 *
 *   Epoch 1/5 - 125/125 - 2s 16ms/step - loss: 0.4012 - accuracy: 0.8800 - val_loss: 0.3900
 *
 * Every line fits the terminal (process.stdout.columns): the bar narrows (down to
 * 10 characters) and a redraw cuts its logs with '…'; an epoch's final logs wrap
 * onto indented lines instead, so none is lost. Plain lines wrap at `columns`
 * (default 120) the same way.
 *
 * A small renderer rather than an npm progress-bar package: those target Node
 * streams only (they reach for `process`/`readline` when loaded), do not print
 * Keras' per-batch logs, and would be the one runtime dependency of a library
 * that also runs in browsers.
 */
import { checkOptions, optionKeys } from '../../compiler/check.js';
import type { Callback, Logs, TrainingParams } from './sequential.js';

export interface ProgbarOptions {
  /** 'auto' (default): a bar when stdout is a terminal, lines otherwise; 'bar' or 'lines' to force one. */
  mode?: 'auto' | 'bar' | 'lines';
  /** Where text goes (default: process.stdout, or console.log line by line without Node). */
  write?: (text: string) => void;
  /** The clock in milliseconds (default performance.now). */
  now?: () => number;
  /** Bar width in characters (default 30). */
  width?: number;
  /** Minimum milliseconds between two redraws of the bar (default 50). */
  interval?: number;
  /** Line width: the terminal's columns for a bar, 120 for plain lines. */
  columns?: number;
}

interface NodeStdout { isTTY?: boolean; columns?: number; write(text: string): unknown }

/** The narrowest bar drawn when a line is short of room. */
const MIN_BAR = 10;
/** What a narrowed bar leaves of the line for ' - ETA: 2s - loss: 0.5123'. */
const LOG_ROOM = 40;
/** Plain lines (a pipe, a file, CI) wrap here. */
const PLAIN_COLUMNS = 120;

/** process.stdout when running in Node; undefined in browsers (no `process` global). */
function nodeStdout(): NodeStdout | undefined {
  const p = (globalThis as { process?: { stdout?: NodeStdout } }).process;
  return p?.stdout && typeof p.stdout.write === 'function' ? p.stdout : undefined;
}

/** Keras' number format in logs: 4 decimals, or exponent notation when tiny or huge. */
export function formatValue(v: number): string {
  const a = Math.abs(v);
  return a !== 0 && Number.isFinite(v) && (a < 1e-3 || a >= 1e6) ? v.toExponential(4) : v.toFixed(4);
}

/** An ETA or duration in whole seconds, as Keras writes it: 5s, 1:05, 1:01:05. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const two = (x: number) => String(x).padStart(2, '0');
  if (s >= 3600) return `${Math.floor(s / 3600)}:${two(Math.floor((s % 3600) / 60))}:${two(s % 60)}`;
  if (s >= 60) return `${Math.floor(s / 60)}:${two(s % 60)}`;
  return `${s}s`;
}

/** Time per step: 850us/step, 16ms/step, 2s/step. */
function perStep(ms: number): string {
  if (ms >= 1000) return `${Math.round(ms / 1000)}s/step`;
  if (ms >= 1) return `${Math.round(ms)}ms/step`;
  return `${Math.round(ms * 1000)}us/step`;
}

const logItems = (logs: Logs) => Object.entries(logs).map(([k, v]) => ` - ${k}: ${formatValue(v)}`);

/**
 * `head` then the log items, on lines of at most `columns` characters: items that do not fit go to indented continuation lines.
 * @example wrapLine('Epoch 1/5 - 2s', [' - loss: 0.5000', ' - accuracy: 0.9000'], 30) // 'Epoch 1/5 - 2s - loss: 0.5000\n   accuracy: 0.9000'
 */
export function wrapLine(head: string, items: readonly string[], columns: number): string {
  const lines: string[] = [];
  let line = head;
  for (const item of items) {
    if (line.length + item.length > columns && line.trim() !== '') {
      lines.push(line);
      line = `   ${item.slice(3)}`; // ' - k: v' → '   k: v'
    } else line += item;
  }
  lines.push(line);
  return lines.join('\n');
}

/** `text` cut to `columns` characters, ending with '…' when cut. */
const cut = (text: string, columns: number) => (text.length <= columns ? text : `${text.slice(0, Math.max(columns - 1, 0))}…`);

/** The progress display `fit` adds for verbose 1 (bar or lines) and 2 (lines). */
export class ProgbarLogger implements Callback {
  private params?: TrainingParams;
  private readonly write: (text: string) => void;
  private readonly bar: boolean;
  private readonly now: () => number;
  private readonly width: number;
  private readonly interval: number;
  private readonly columns: () => number;
  private started = 0;
  private lastDraw = -Infinity;
  private drawnLength = 0;
  private seen = 0;

  constructor(options: ProgbarOptions = {}) {
    checkOptions('ProgbarLogger', options, optionKeys<ProgbarOptions>({ mode: true, write: true, now: true, width: true, interval: true, columns: true }));
    const stdout = nodeStdout();
    this.write = options.write ?? (stdout ? (t) => void stdout.write(t) : lineWriter());
    const mode = options.mode ?? 'auto';
    this.bar = mode === 'bar' || (mode === 'auto' && !options.write && stdout?.isTTY === true);
    this.now = options.now ?? (() => performance.now());
    this.width = options.width ?? 30;
    this.interval = options.interval ?? 50;
    // the terminal may be resized between epochs: read its width at each draw; one column spare so a full line never wraps.
    // A caller's own `write` is no terminal: no limit unless `columns` says one.
    const fallback = options.write ? Infinity : this.bar ? (stdout?.columns ?? 80) - 1 : PLAIN_COLUMNS;
    this.columns = () => Math.max(options.columns ?? fallback, 20);
  }

  setParams(params: TrainingParams): void {
    this.params = params;
  }

  onEpochBegin(epoch: number): void {
    this.started = this.now();
    this.lastDraw = -Infinity;
    this.drawnLength = 0;
    this.seen = 0;
    if (this.bar) this.write(`Epoch ${epoch + 1}/${this.params?.epochs ?? '?'}\n`);
  }

  onBatchEnd(batch: number, logs: Logs): void {
    this.seen = batch + 1;
    if (!this.bar) return;
    const now = this.now();
    const steps = this.knownSteps();
    if (now - this.lastDraw < this.interval && this.seen !== steps) return;
    this.lastDraw = now;
    const elapsed = (now - this.started) / 1000;
    const eta = steps ? ` - ETA: ${formatDuration((elapsed / this.seen) * (steps - this.seen))}` : '';
    const items = logItems(logs).join('');
    this.draw(cut(`${this.progress()}${eta}${items}`, this.columns()));
  }

  onEpochEnd(epoch: number, logs: Logs): void {
    const ms = this.now() - this.started;
    const time = `${formatDuration(ms / 1000)} ${perStep(ms / Math.max(this.seen, 1))}`;
    const items = logItems(logs);
    if (this.bar) {
      const head = `${this.progress()} - ${time}`;
      const [first, ...rest] = wrapLine(head, items, this.columns()).split('\n');
      this.draw(first!);
      this.write(rest.map((l) => `\n${l}`).join('') + '\n');
    } else {
      this.write(`${wrapLine(`Epoch ${epoch + 1}/${this.params?.epochs ?? '?'} - ${this.seen}/${this.knownSteps() ?? this.seen} - ${time}`, items, this.columns())}\n`);
    }
  }

  /** Batches per epoch, when known (a dataset of unknown size has none). */
  private knownSteps(): number | undefined {
    const steps = this.params?.steps;
    return steps !== undefined && Number.isFinite(steps) ? steps : undefined;
  }

  /**
   * `[=====>....] 45/125`: the bar, and the batches done out of the epoch's; `45/Unknown` without a count, as Keras.
   * The bar narrows (to {@link MIN_BAR}) to leave {@link LOG_ROOM} characters of the line for the ETA and logs.
   */
  private progress(): string {
    if (this.knownSteps() === undefined) return `${this.seen}/Unknown`;
    const steps = this.knownSteps()!;
    const counter = 2 + 2 * String(steps).length; // ' 45/125'
    const width = Math.max(Math.min(this.width, this.columns() - LOG_ROOM - counter - 2), Math.min(MIN_BAR, this.width));
    const done = Math.min(this.seen / Math.max(steps, 1), 1);
    const filled = Math.floor(done * width); // as Keras: '=' up to the head, '>' while unfinished
    const body = filled > 0 ? '='.repeat(filled - 1) + (done < 1 ? '>' : '=') : '';
    const bar = `[${body}${'.'.repeat(width - filled)}]`;
    return `${bar} ${String(this.seen).padStart(String(steps).length)}/${steps}`;
  }

  /** Redraws the current line: back to its start, then spaces over what the previous draw left. */
  private draw(line: string): void {
    const pad = Math.max(this.drawnLength - line.length, 0);
    this.write(`\r${line}${' '.repeat(pad)}`);
    this.drawnLength = line.length;
  }
}

/** Without Node: console.log each complete line. */
function lineWriter(): (text: string) => void {
  let pending = '';
  return (text) => {
    pending += text;
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const l of lines) console.log(l);
  };
}
