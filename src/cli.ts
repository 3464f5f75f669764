#!/usr/bin/env node
/**
 * The `kiln` command line: demo, compile (a model to a portable artifact), run
 * (an artifact on .npy or .json input), info (what an artifact holds), train
 * (a model on a built-in data set) and board (a page of TensorBoard logs). Bad input exits non-zero with a one-line reason.
 */
import { realpathSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { KilnError } from '../compiler/errors.js';
import { demo } from './demo.js';
import { decodeNpy, encodeNpy } from './io/npy.js';
import { readFileChecked, writeFileAtomic } from './io/files.js';
import { loadArtifactFile, type ExportEntry } from './models/export.js';
import { LayersModel } from './models/model.js';
import { loadModel } from './models/save.js';
import { KilnRuntimeError } from './runtime/errors.js';
import type { Artifact } from './runtime/artifact.js';
import type { TensorData } from './runtime/index.js';
import type { RowsSpec } from './runtime/rows.js';

/** A failure to report in one line, with exit code 2 (bad usage) or 1 (bad input). */
class UsageError extends Error {}

const help: Record<string, string> = {
  main: `Usage: kiln <command> [options]

Commands:
  demo      train a CNN on the shipped Fashion-MNIST images and save it
  compile   compile a model into a portable artifact that kiln/runtime runs
  run       run an artifact on inputs from .npy or .json files
  info      show an artifact's entries, shapes, parameters and sizes
  train     train a model on a built-in data set and save it
  board     serve a page of the TensorBoard logs in a folder (curves, histograms, images, graph)

Run 'kiln <command> --help' for a command's options.`,
  demo: `Usage: kiln demo [--model cnn|mlp] [--epochs N] [--batch-size N] [--lr X] [--seed N] [--save PATH | --no-save]

Train a Keras-style model on the shipped Fashion-MNIST images with Adam, evaluate
it, print a few predictions and save it (default fashion-mnist-<model>.kiln;
kiln.loadModel reads it). fit compiles the training step (forward, autodiff
gradients, optimizer update), evaluation and predict into one wasm module.
cnn (default, 2 epochs): two 5x5 conv+pool blocks; mlp (5 epochs): 784-128-10.`,
  compile: `Usage: kiln compile <model> -o <artifact> [--entries predict,trainStep,evaluate] [--max-batch N] [--folder] [--meta key=value]...

<model> is a saved model (.kiln, from model.save) or a JavaScript module whose
default export is a model (or a function, possibly async, returning one).
Writes one artifact file, or with --folder a folder of manifest.json, model.wasm
and weights.safetensors. trainStep and evaluate need a compiled model.`,
  run: `Usage: kiln run <artifact> <input.npy|input.json>... [-o output.npy|output.json] [--entry predict]

Runs the artifact's predict on the inputs (one file per model input, rows along
the first axis). .json holds nested arrays. Without -o, prints each output's
shape and its first rows (and the top class when the artifact has classNames).`,
  info: `Usage: kiln info <artifact | model.kiln>

For an artifact: its entries with their inputs and outputs, the parameter count,
the wasm and weights sizes and its metadata. For a saved model (.kiln): its
summary (layers, output shapes, parameters), how it was compiled and its metadata.`,
  train: `Usage: kiln train <model> --data fashion-mnist [--path DIR] [--epochs N] [--batch-size N] [--lr X] [-o model.kiln]

Trains <model> (a .kiln file or a JavaScript module, as for compile) on a built-in
data set, evaluates it on the test split and saves it (default: trained.kiln).
A model that is not compiled is compiled with Adam and sparse categorical
cross-entropy on logits. --path reads the IDX files from a folder (the full
data set, e.g. /usr/share/datasets/fashion-mnist); without it, the shipped subset.`,
  board: `Usage: kiln board --logdir <folder> [--port 6006] [--host 127.0.0.1]

Serves a web page of the TensorBoard event files below <folder> (each folder
holding events.out.tfevents.* files is a run): scalar curves with smoothing,
histograms, images, text, the hparams table and the model graph, updated while
training writes. --port 0 picks a free port; --host 0.0.0.0 serves the network.`,
};

function parse<O extends NonNullable<ParseArgsConfig['options']>>(command: string, args: string[], options: O) {
  try {
    return parseArgs({ args, options: { help: { type: 'boolean' as const, short: 'h' }, ...options }, allowPositionals: true as const, strict: true as const });
  } catch (e) {
    throw new UsageError(`kiln ${command}: ${(e as Error).message.split('\n')[0]}; see kiln ${command} --help.`);
  }
}

function positiveNumber(command: string, flag: string, value: string | undefined, integer = true): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) throw new UsageError(`kiln ${command}: ${flag} expects a positive ${integer ? 'integer' : 'number'}, got ${value}.`);
  return n;
}

/** A model from a .kiln file or a module's default export (a model, or a function returning one). */
async function modelFrom(command: string, path: string): Promise<LayersModel> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch {
    throw new KilnError(`kiln ${command}: cannot read "${path}": no such file.`);
  }
  if (info.isDirectory()) throw new KilnError(`kiln ${command}: "${path}" is a directory; expected a model file (a saved .kiln model, or a .js module exporting a model).`);
  if (extname(path) === '.kiln') return loadModel(path);
  let mod: { default?: unknown; model?: unknown };
  try {
    mod = (await import(pathToFileURL(resolve(path)).href)) as typeof mod;
  } catch (e) {
    throw new KilnError(`kiln ${command}: cannot import "${path}" as a module exporting a model: ${(e as Error).message?.split('\n')[0] ?? String(e)}.`);
  }
  let m = mod.default ?? mod.model;
  if (typeof m === 'function' && !(m.prototype instanceof LayersModel)) m = await (m as () => unknown)();
  if (!(m instanceof LayersModel)) throw new KilnError(`kiln ${command}: "${path}" must export a model (default export, or a function returning one), got ${m === undefined ? 'nothing' : typeof m}.`);
  return m;
}

async function compileCommand(args: string[]): Promise<void> {
  const { values, positionals } = parse('compile', args, {
    output: { type: 'string', short: 'o' }, entries: { type: 'string' }, 'max-batch': { type: 'string' }, folder: { type: 'boolean' }, meta: { type: 'string', multiple: true },
  });
  if (values.help) return void console.log(help.compile);
  if (positionals.length !== 1) throw new UsageError(`kiln compile: expected one model file, got ${positionals.length}; see kiln compile --help.`);
  if (!values.output) throw new UsageError('kiln compile: -o <artifact> is required.');
  const entries = (values.entries ?? 'predict').split(',').map((e) => e.trim()) as ExportEntry[];
  const metadata = Object.fromEntries((values.meta ?? []).map((kv) => {
    const at = kv.indexOf('=');
    if (at < 1) throw new UsageError(`kiln compile: --meta expects key=value, got ${kv}.`);
    return [kv.slice(0, at), kv.slice(at + 1)];
  }));
  const model = await modelFrom('compile', positionals[0]!);
  const saved = (model as LayersModel & { metadata?: Record<string, string> }).metadata ?? {};
  const { wasmBytes, weightsBytes } = await model.export(values.output, { entries, maxBatch: positiveNumber('compile', '--max-batch', values['max-batch']), folder: values.folder, metadata: { ...saved, ...metadata } });
  console.log(`wrote ${values.output}${values.folder ? '/' : ''}: entries ${entries.join(', ')}; wasm ${kb(wasmBytes)}, weights ${kb(weightsBytes)}`);
}

const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;

/** An input file as data + shape: .npy (any dtype NumPy writes that kiln maps) or .json nested arrays. */
async function inputFrom(path: string, dtype: 'float32' | 'int32'): Promise<{ data: Float32Array | Int32Array; shape: number[] }> {
  const bytes = await readFileChecked(path, 'kiln run');
  let shape: number[];
  let values: ArrayLike<number | bigint>;
  if (extname(path) === '.npy') {
    const a = decodeNpy(bytes, path);
    shape = [...a.shape];
    values = a.data as ArrayLike<number | bigint>;
  } else if (extname(path) === '.json') {
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder().decode(bytes));
    } catch {
      throw new KilnError(`kiln run: "${path}" is not valid JSON.`);
    }
    shape = [];
    for (let v = json; Array.isArray(v); v = v[0]) shape.push(v.length);
    const flat = (json as unknown[]).flat?.(Infinity) ?? [json];
    if (!flat.every((v) => typeof v === 'number')) throw new KilnError(`kiln run: "${path}" must hold nested arrays of numbers.`);
    if (flat.length !== shape.reduce((a, d) => a * d, 1)) throw new KilnError(`kiln run: "${path}" is ragged: its nested arrays are not all of shape [${shape.join(',')}].`);
    values = flat as number[];
  } else {
    throw new KilnError(`kiln run: "${path}": expected a .npy or .json file.`);
  }
  const data = dtype === 'int32' ? Int32Array.from(values as ArrayLike<number>, (v) => Number(v)) : Float32Array.from(values as ArrayLike<number>, (v) => Number(v));
  return { data, shape };
}

async function runCommand(args: string[]): Promise<void> {
  const { values, positionals } = parse('run', args, { output: { type: 'string', short: 'o' }, entry: { type: 'string' } });
  if (values.help) return void console.log(help.run);
  if (positionals.length < 2) throw new UsageError('kiln run: expected an artifact and at least one input file; see kiln run --help.');
  if ((values.entry ?? 'predict') !== 'predict') throw new UsageError(`kiln run: --entry ${values.entry}: only predict runs from the command line (trainStep and evaluate run from kiln/runtime).`);
  const [artifactPath, ...inputPaths] = positionals as [string, ...string[]];
  const art = await loadArtifactFile(artifactPath);
  const specs = art.manifest.inputs;
  if (inputPaths.length !== specs.length) throw new KilnError(`kiln run: the artifact takes ${specs.length} input${specs.length === 1 ? '' : 's'} (${specs.map((s) => `${s.name} [n,${s.shape.slice(1).join(',')}]`).join(', ')}), got ${inputPaths.length} file${inputPaths.length === 1 ? '' : 's'}.`);
  const inputs = await Promise.all(inputPaths.map((p, i) => inputFrom(p, specs[i]!.dtype)));
  inputs.forEach((x, i) => {
    const want = specs[i]!.shape.slice(1);
    const got = x.shape.slice(1);
    if (x.shape.length !== want.length + 1 || want.some((d, k) => d !== got[k])) throw new KilnError(`kiln run: input "${specs[i]!.name}" from "${inputPaths[i]}" has shape [${x.shape.join(',')}]; expected [n,${want.join(',')}].`);
  });
  const outputs = art.predictAll(inputs.length === 1 ? inputs[0]! : inputs);
  if (values.output) return writeOutputs(values.output, art, outputs);
  printOutputs(art, outputs);
}

async function writeOutputs(path: string, art: Artifact, outputs: TensorData[]): Promise<void> {
  if (extname(path) === '.npy') {
    if (outputs.length !== 1) throw new KilnError(`kiln run: the artifact has ${outputs.length} outputs; write them to a .json file.`);
    await writeFileAtomic(path, encodeNpy({ dtype: 'float32', shape: [...outputs[0]!.shape], data: outputs[0]!.data as Float32Array }));
  } else if (extname(path) === '.json') {
    const nest = (t: TensorData) => {
      const build = (axis: number, offset: number): unknown => (axis === t.shape.length ? t.data[offset] : Array.from({ length: t.shape[axis]! }, (_, i) => build(axis + 1, offset * t.shape[axis]! + i)));
      return build(0, 0);
    };
    const record = Object.fromEntries(art.manifest.outputs.map((o, i) => [o.name, nest(outputs[i]!)]));
    await writeFileAtomic(path, new TextEncoder().encode(JSON.stringify(record)));
  } else {
    throw new KilnError(`kiln run: -o "${path}": expected a .npy or .json file.`);
  }
  console.log(`wrote ${path}`);
}

/**
 * The class names an artifact's metadata gives: a JSON list of strings (what kiln
 * writes) or comma-separated names (`--meta classNames=shirt,shoe,bag`); anything
 * else is reported once and left out, never a crash.
 */
export function classNamesOf(metadata: Readonly<Record<string, unknown>>): string[] | undefined {
  const raw = metadata.classNames;
  if (raw === undefined) return undefined;
  if (Array.isArray(raw) && raw.every((c) => typeof c === 'string')) return raw as string[]; // exported as a list
  if (typeof raw === 'string' && raw.trimStart().startsWith('[')) {
    try {
      const list = JSON.parse(raw) as unknown;
      if (Array.isArray(list) && list.every((c) => typeof c === 'string')) return list as string[];
    } catch {
      // reported below
    }
  } else if (typeof raw === 'string') return raw.split(',').map((c) => c.trim());
  console.error('kiln run: the artifact\'s metadata classNames is malformed (expected a list of strings, or comma-separated names); printing without class names.');
  return undefined;
}

function printOutputs(art: Artifact, outputs: TensorData[]): void {
  const classNames = classNamesOf(art.metadata);
  outputs.forEach((t, i) => {
    const name = art.manifest.outputs[i]!.name;
    const width = t.shape.slice(1).reduce((a, d) => a * d, 1);
    console.log(`${name}: float32[${t.shape.join(',')}]`);
    const rows = Math.min(t.shape[0]!, 10);
    for (let r = 0; r < rows; r++) {
      const row = Array.from(t.data.subarray(r * width, (r + 1) * width));
      const top = row.indexOf(Math.max(...row));
      const shown = row.slice(0, 10).map((v) => v.toFixed(4)).join(' ') + (row.length > 10 ? ' …' : '');
      console.log(`  [${r}] ${shown}${classNames && classNames.length === width ? `  → ${classNames[top]}` : ''}`);
    }
    if (t.shape[0]! > rows) console.log(`  … ${t.shape[0]! - rows} more rows`);
  });
}

async function infoCommand(args: string[]): Promise<void> {
  const { values, positionals } = parse('info', args, {});
  if (values.help) return void console.log(help.info);
  if (positionals.length !== 1) throw new UsageError('kiln info: expected one artifact; see kiln info --help.');
  const path = positionals[0]!;
  if (extname(path) === '.kiln') return modelInfo(path);
  const art = await loadArtifactFile(path);
  const m = art.manifest;
  const shape = (s: { dtype: string; shape: readonly (number | null)[] }) => `${s.dtype}[${s.shape.map((d) => d ?? 'n').join(',')}]`;
  const params = m.parameters.reduce((a, p) => a + p.shape.reduce((x, d) => x * d, 1), 0);
  const trainable = m.parameters.filter((p) => p.trainable).reduce((a, p) => a + p.shape.reduce((x, d) => x * d, 1), 0);
  console.log(`${path}: kiln artifact version ${m.version}, model "${m.name}"`);
  console.log(`entries: ${art.entries.join(', ')} (batches of 1 to ${m.module.maxBatch})`);
  console.log(`inputs:  ${m.inputs.map((s) => `${s.name} ${shape(s)}`).join(', ')}`);
  console.log(`outputs: ${m.outputs.map((s) => `${s.name} ${shape(s)}`).join(', ')}`);
  if (m.labels) console.log(`labels:  ${m.labels.map((s) => `${s.name} ${shape(s)}`).join(', ')}`);
  if (m.rows) console.log(`raw rows (predictRows): ${describeRows(m.rows)}`);
  console.log(`parameters: ${params} (${trainable} trainable) in ${m.parameters.length} tensors${m.optimizerState ? `; optimizer state: ${m.optimizerState.length} tensors` : ''}`);
  const weightsBytes = Object.values(art.getWeights()).reduce((a, t) => a + t.data.byteLength, 0); // parameters and optimizer state, as compile reports
  console.log(`sizes: wasm ${kb(art.wasmBytes)}, weights ${kb(weightsBytes)}, memory arena ${kb(m.module.arenaBytes)}`);
  for (const [k, value] of Object.entries(m.metadata)) {
    const v = typeof value === 'string' ? value : JSON.stringify(value);
    console.log(`metadata ${k}: ${v.length > 100 ? `${v.slice(0, 100)}…` : v}`);
  }
}

/** A row encoder in one line: each input and the columns it reads. */
function describeRows(spec: RowsSpec): string {
  const q = (c: string) => JSON.stringify(c);
  return spec.features.map((f) => {
    if (f.kind === 'numeric') return `${f.name} ← ${f.columns.length} numeric column${f.columns.length === 1 ? '' : 's'}`;
    if (f.kind === 'lookup') return `${f.name} ← ${q(f.column)} (${f.tokens} lookup, ${f.vocabulary.length} tokens, ${f.outputMode})`;
    if (f.kind === 'hashing') return `${f.name} ← ${q(f.column)} (hashing, ${f.numBins} bins, ${f.outputMode})`;
    if (f.kind === 'text') return `${f.name} ← ${q(f.column)} (text vectorization, ${f.vocabulary.length} tokens, ${f.outputMode}, ${f.width} per row)`;
    return `${f.name} ← ${f.columns.map(q).join(' × ')} (hashed crossing, ${f.numBins} bins, ${f.outputMode})`;
  }).join('; ');
}

/** `kiln info model.kiln`: the saved model's summary, compile arguments and metadata. */
async function modelInfo(path: string): Promise<void> {
  const model = await loadModel(path);
  console.log(`${path}: kiln model "${model.name}" (${model.toConfig().className})`);
  model.summary((line) => console.log(line));
  const args = model.compileArgs;
  if (args) {
    const optimizer = model.optimizer!;
    const lr = optimizer.learningRate;
    console.log(`compiled: optimizer ${optimizer.className} (learning rate ${typeof lr === 'number' ? lr : lr.className}), loss ${JSON.stringify(typeof args.loss === 'object' && 'name' in args.loss ? args.loss.name : args.loss)}${args.metrics ? `, metrics ${JSON.stringify((args.metrics as unknown[]).map((m) => (typeof m === 'string' ? m : (m as { name?: string }).name)))}` : ''}`);
  } else {
    console.log('not compiled (saved without a training configuration)');
  }
  if (model.rowEncoder) console.log(`raw rows (predictRows): ${describeRows(model.rowEncoder.toJSON())}`);
  for (const [k, v] of Object.entries(model.metadata)) console.log(`metadata ${k}: ${v.length > 100 ? `${v.slice(0, 100)}…` : v}`);
}

async function trainCommand(args: string[]): Promise<void> {
  const { values, positionals } = parse('train', args, {
    data: { type: 'string' }, path: { type: 'string' }, epochs: { type: 'string' }, 'batch-size': { type: 'string' }, lr: { type: 'string' }, output: { type: 'string', short: 'o' },
  });
  if (values.help) return void console.log(help.train);
  if (positionals.length !== 1) throw new UsageError('kiln train: expected one model file; see kiln train --help.');
  if (values.data !== 'fashion-mnist') throw new UsageError(`kiln train: --data expects fashion-mnist (the built-in data set), got ${values.data ?? 'nothing'}.`);
  const { load } = await import('./datasets/fashionMnist.js');
  const data = await load(values.path ? { path: values.path } : {});
  const model = await modelFrom('train', positionals[0]!);
  if (!model.compileArgs) {
    const { adam } = await import('./optimizers/index.js');
    const { losses } = await import('./models/losses.js');
    model.compile({ optimizer: adam({ learningRate: positiveNumber('train', '--lr', values.lr, false) ?? 1e-3 }), loss: losses.sparseCategoricalCrossentropy({ fromLogits: true }), metrics: ['accuracy'] });
  } else if (values.lr) {
    model.optimizer!.learningRate = positiveNumber('train', '--lr', values.lr, false)!;
  }
  await model.fit(data.train.images, data.train.labels, { epochs: positiveNumber('train', '--epochs', values.epochs) ?? 1, batchSize: positiveNumber('train', '--batch-size', values['batch-size']) ?? 64, validationSplit: 0.1 });
  const result = await model.evaluate(data.test.images, data.test.labels);
  const logs = Array.isArray(result) ? result.map((t) => t.itemSync()) : [result.itemSync()];
  console.log(`test: loss ${logs[0]!.toFixed(4)}${logs.length > 1 ? `, accuracy ${(logs[1]! * 100).toFixed(2)}%` : ''}`);
  const out = values.output ?? 'trained.kiln';
  await model.save(out, { metadata: { classNames: JSON.stringify(data.classNames), dataset: 'fashion-mnist' } });
  console.log(`saved ${out}`);
}

async function demoCommand(args: string[]): Promise<void> {
  const { values, positionals } = parse('demo', args, {
    model: { type: 'string' }, epochs: { type: 'string' }, 'batch-size': { type: 'string' }, lr: { type: 'string' }, seed: { type: 'string' }, save: { type: 'string' }, 'no-save': { type: 'boolean' },
  });
  if (values.help) return void console.log(help.demo);
  if (positionals.length) throw new UsageError(`kiln demo: unexpected argument ${positionals[0]}; see kiln demo --help.`);
  if (values.model !== undefined && values.model !== 'mlp' && values.model !== 'cnn') throw new UsageError(`kiln demo: --model expects mlp or cnn, got ${values.model}.`);
  const model = (values.model ?? 'cnn') as 'mlp' | 'cnn';
  await demo({
    model,
    epochs: positiveNumber('demo', '--epochs', values.epochs),
    batchSize: positiveNumber('demo', '--batch-size', values['batch-size']),
    learningRate: positiveNumber('demo', '--lr', values.lr, false),
    seed: values.seed === undefined ? undefined : Number(values.seed),
    save: values['no-save'] ? undefined : values.save ?? `fashion-mnist-${model}.kiln`,
  });
}

async function boardCommand(args: string[]): Promise<void> {
  const { values, positionals } = parse('board', args, { logdir: { type: 'string' }, port: { type: 'string' }, host: { type: 'string' } });
  if (values.help) return void console.log(help.board);
  if (positionals.length) throw new UsageError(`kiln board: unexpected argument ${positionals[0]}; see kiln board --help.`);
  if (!values.logdir) throw new UsageError('kiln board: expected --logdir <folder>; see kiln board --help.');
  const port = values.port === undefined ? 6006 : Number(values.port);
  if (!/^\d+$/.test(values.port ?? '0') || port > 65535) throw new UsageError(`kiln board: --port expects an integer from 0 to 65535, got ${values.port}.`);
  const { startBoard } = await import('./board/server.js');
  const board = await startBoard({ logDir: values.logdir, port, host: values.host ?? '127.0.0.1' });
  const runs = board.logs.runs.size;
  console.log(`kiln board: ${runs} run${runs === 1 ? '' : 's'} in ${values.logdir}; open ${board.url} (Ctrl+C to stop)`);
  for (const p of board.logs.problems()) console.log(`  ${p.kind} file ${p.file}: ${p.message}`);
  await new Promise<void>((resolve) => process.once('SIGINT', () => void board.close().then(resolve)));
}

const commands: Record<string, (args: string[]) => Promise<void>> = { demo: demoCommand, compile: compileCommand, run: runCommand, info: infoCommand, train: trainCommand, board: boardCommand };

/** Runs a command line (without 'node kiln'); resolves to the exit code, or throws the one-line reason. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '-h' || command === '--help') {
    console.log(help.main);
    return command === undefined ? 2 : 0;
  }
  const run = Object.hasOwn(commands, command) ? commands[command] : undefined;
  if (!run) throw new UsageError(`kiln: unknown command "${command}"; commands are ${Object.keys(commands).join(', ')} (kiln --help).`);
  await run(rest);
  return 0;
}

/** The exit code for an error `main` threw: 2 for bad usage, 1 for bad input or a failure. */
export const exitCodeOf = (e: unknown): number => (e instanceof UsageError ? 2 : 1);

/** The one-line reason for a known error (the stack for anything else: a bug in kiln). */
export const reasonOf = (e: unknown): unknown => (e instanceof KilnError || e instanceof KilnRuntimeError || e instanceof UsageError ? (e as Error).message : e);

// run when executed (node dist/src/cli.js, or the kiln bin link), not when imported
if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (e: unknown) => {
      console.error(reasonOf(e));
      process.exitCode = exitCodeOf(e);
    },
  );
}
