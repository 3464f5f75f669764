#!/usr/bin/env node
/**
 * The `kiln` command line. `kiln demo` trains the example model on the shipped
 * data; later issues add compile, run, info and train.
 */
import { KilnError } from '../compiler/errors.js';
import { demo } from './demo.js';

const usage = `Usage: kiln <command> [options]

Commands:
  demo [--model cnn|mlp] [--epochs N] [--batch-size N] [--lr X] [--seed N]
       [--save PATH | --no-save]
        Train a Keras-style model on the shipped Fashion-MNIST images with
        Adam, evaluate it, print a few predictions and save it (default
        fashion-mnist-<model>.kiln; kiln.loadModel reads it). fit compiles
        the training step (forward, autodiff gradients, optimizer update),
        evaluation and predict into one wasm module. cnn (default, 2 epochs):
        two 5x5 conv+pool blocks; mlp (5 epochs): 784-128-10.

Options:
  -h, --help   Show this help.`;

function parseOptions(args: string[]): Record<string, number | string> {
  const names: Record<string, string> = { '--epochs': 'epochs', '--batch-size': 'batchSize', '--lr': 'learningRate', '--seed': 'seed' };
  const out: Record<string, number | string> = {};
  let save: string | undefined = '';
  for (let i = 0; i < args.length; i += 2) {
    if (args[i] === '--no-save') {
      save = undefined;
      i--;
      continue;
    }
    if (args[i] === '--save') {
      if (!args[i + 1] || args[i + 1]!.startsWith('--')) throw new KilnError('kiln demo: --save expects a path.');
      save = args[i + 1]!;
      continue;
    }
    if (args[i] === '--model') {
      if (args[i + 1] !== 'mlp' && args[i + 1] !== 'cnn') throw new KilnError(`kiln demo: --model expects mlp or cnn, got ${args[i + 1] ?? 'nothing'}.`);
      out.model = args[i + 1]!;
      continue;
    }
    const name = names[args[i]!];
    const value = Number(args[i + 1]);
    if (!name) throw new KilnError(`kiln demo: unknown option ${args[i]}; see kiln --help.`);
    if (!Number.isFinite(value) || value <= 0) throw new KilnError(`kiln demo: ${args[i]} expects a positive number, got ${args[i + 1] ?? 'nothing'}.`);
    out[name] = value;
  }
  if (save !== undefined) out.save = save || `fashion-mnist-${out.model ?? 'cnn'}.kiln`;
  return out;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '-h' || command === '--help' || rest.includes('--help') || rest.includes('-h')) {
    console.log(usage);
    return command === undefined ? 1 : 0;
  }
  if (command === 'demo') {
    await demo(parseOptions(rest));
    return 0;
  }
  console.error(`kiln: unknown command "${command}"; see kiln --help.`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (e: unknown) => {
    console.error(e instanceof KilnError ? e.message : e);
    process.exitCode = 1;
  },
);
