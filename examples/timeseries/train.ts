/**
 * Forecasts Seattle's daily maximum temperature and prints the test error
 * beside the naive forecast's.
 *
 *   npx tsc -p examples/timeseries && node dist/examples/timeseries/train.js [--kind lstm|conv1d] [--epochs 30]
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { forecast, readSeries } from './forecast.js';

const args = process.argv.slice(2);
const option = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const kind = option('--kind') === 'conv1d' ? 'conv1d' : 'lstm';
const epochs = Number(option('--epochs') ?? 30) || 30;
// vega-datasets (a devDependency) keeps its files beside its build; its exports list only the build
const root = dirname(dirname(createRequire(import.meta.url).resolve('vega-datasets')));
const series = await readSeries(join(root, 'data', 'seattle-weather.csv'));
const t0 = performance.now();
const { mae, naiveMae, testWindows } = await forecast(series, { kind, epochs, verbose: 0 });
console.log(`${series.length} days; ${kind}, ${epochs} epochs, ${((performance.now() - t0) / 1000).toFixed(1)} s`);
console.log(`test MAE of tomorrow's maximum temperature over ${testWindows} days: ${mae.toFixed(2)} °C (naive "tomorrow as today": ${naiveMae.toFixed(2)} °C)`);
