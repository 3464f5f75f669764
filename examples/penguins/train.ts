/**
 * Trains the penguins species classifier and prints its test accuracy.
 *
 *   npx tsc -p examples/penguins && node dist/examples/penguins/train.js [--epochs 60]
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { trainPenguins } from './penguins.js';

const args = process.argv.slice(2);
const epochs = Number(args[args.indexOf('--epochs') + 1] ?? 60) || 60;
// vega-datasets (a devDependency) keeps its files beside its build; its exports list only the build
const root = dirname(dirname(createRequire(import.meta.url).resolve('vega-datasets')));
const penguins = JSON.parse(readFileSync(join(root, 'data', 'penguins.json'), 'utf8'));

const { accuracy, trainRows, testRows, species } = await trainPenguins(penguins, { epochs, verbose: 1 });
console.log(`${trainRows} training rows, ${testRows} test rows; species ${species.getVocabulary().join(', ')}`);
console.log(`test accuracy: ${(accuracy * 100).toFixed(1)}%`);
