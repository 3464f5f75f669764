/**
 * Trains the penguins species classifier on raw rows, prints its test accuracy,
 * exports it as an artifact that takes raw rows, and predicts the raw test rows
 * again with kiln/runtime alone (as a deployment would).
 *
 *   npx tsc -p examples/penguins && node dist/examples/penguins/train.js [--epochs 60] [--out penguins.kiln]
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { loadArtifactFile } from '../../src/runtime/node.js';
import { argmaxRows, exportPenguins, trainPenguins, type Penguin } from './penguins.js';

const args = process.argv.slice(2);
const option = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const epochs = Number(option('--epochs') ?? 60) || 60;
const out = option('--out') ?? 'penguins.kiln';
// vega-datasets (a devDependency) keeps its files beside its build; its exports list only the build
const root = dirname(dirname(createRequire(import.meta.url).resolve('vega-datasets')));
const penguins = JSON.parse(readFileSync(join(root, 'data', 'penguins.json'), 'utf8')) as Penguin[];

const { accuracy, trainRows, testRows, species, model } = await trainPenguins(penguins, { epochs, verbose: 1 });
console.log(`${trainRows.length} training rows, ${testRows.length} test rows; species ${species.getVocabulary().join(', ')}`);
console.log(`test accuracy: ${(accuracy * 100).toFixed(1)}%`);

await exportPenguins(model, species, out);
const artifact = await loadArtifactFile(out); // kiln/runtime alone from here on
const names = artifact.metadata.classNames as string[];
const predicted = argmaxRows(artifact.predictRows(testRows).data, names.length);
const right = predicted.filter((k, i) => names[k] === testRows[i]!.Species).length;
console.log(`${out}: the artifact predicts the raw test rows, ${right} of ${testRows.length} right; e.g. ${JSON.stringify(testRows[0])} → ${names[predicted[0]!]}`);
