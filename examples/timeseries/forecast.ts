/**
 * Seattle's daily weather (vega-datasets' seattle-weather.csv, BSD-3-Clause: 1,461
 * days of 2012–2015) → tomorrow's maximum temperature, the time-series recipe:
 * `kiln.data.csv` reads the file, a `normalization` adapted on the training days
 * scales the four measurements, `kiln.utils.timeseriesDatasetFromArray` cuts
 * 14-day windows (the target: the change to the next day's maximum), split by time into
 * training, validation and test days, and an LSTM (or a causal Conv1D) learns
 * the forecast. Its test error is compared with the naive forecast "tomorrow
 * as today", which a useful model must beat.
 */
import * as kiln from '../../src/index.js';

export const columns = ['temp_max', 'temp_min', 'precipitation', 'wind'] as const;
/** The measurements and the season (the day of the year on a circle). */
export const features = [...columns, 'season_sin', 'season_cos'] as const;

export interface ForecastOptions {
  /** Days in each window (default 14). */
  window?: number;
  epochs?: number;
  kind?: 'lstm' | 'conv1d';
  seed?: number;
  verbose?: 0 | 1 | 2;
}

/** The series as [days, 6] in `features` order, read with kiln.data.csv. */
export async function readSeries(path: string): Promise<number[][]> {
  const rows = await kiln.data.csv(path, { columnConfigs: { date: { dtype: 'string' }, weather: { dtype: 'string' } } }).toArray() as Record<string, number | string>[];
  return rows.map((r) => {
    const date = new Date(`${String(r.date)}T00:00:00Z`);
    const day = (date.getTime() - Date.UTC(date.getUTCFullYear(), 0, 1)) / 86_400_000;
    const angle = (2 * Math.PI * day) / 365.25;
    return [...columns.map((c) => r[c] as number), Math.sin(angle), Math.cos(angle)];
  });
}

/** Trains the forecaster and returns its test MAE (°C) beside the naive forecast's. */
export async function forecast(series: readonly (readonly number[])[], options: ForecastOptions = {}) {
  const { window = 14, epochs = 30, kind = 'lstm', seed = 0, verbose = 0 } = options;
  kiln.utils.setRandomSeed(seed);
  const days = series.length;
  const trainEnd = Math.floor(days * 0.7);
  const valEnd = Math.floor(days * 0.85);
  // statistics from the training days only
  const norm = kiln.layers.normalization();
  await norm.adapt(kiln.tensor(series.slice(0, trainEnd).map((r) => [...r])));
  const scaled = (norm.apply(kiln.tensor(series.map((r) => [...r]))) as kiln.Tensor).arraySync() as number[][];
  const tmax = series.map((r) => r[0]!);
  // window starting at day p covers days p … p+window−1; the model predicts the change from its last day to
  // day p+window (a forecast of tmax[p+window−1] + change), so its MAE is the forecast's
  const targets = tmax.slice(window).map((v, p) => [v - tmax[p + window - 1]!]);
  const windows = (start: number, end: number, shuffle: boolean) =>
    kiln.utils.timeseriesDatasetFromArray(scaled, targets, { sequenceLength: window, batchSize: 32, shuffle, seed, startIndex: start, endIndex: end });
  const train = windows(0, trainEnd, true);
  const val = windows(trainEnd, valEnd, false);
  const test = windows(valEnd, days - 1, false);

  const model = kiln.sequential({ layers: kind === 'lstm'
    ? [kiln.layers.lstm({ inputShape: [window, features.length], units: 32 }), kiln.layers.dense({ units: 1 })]
    : [
      kiln.layers.conv1d({ inputShape: [window, features.length], filters: 32, kernelSize: 3, padding: 'causal', activation: 'relu' }),
      kiln.layers.conv1d({ filters: 32, kernelSize: 3, dilationRate: 2, padding: 'causal', activation: 'relu' }),
      kiln.layers.globalAveragePooling1d({}),
      kiln.layers.dense({ units: 1 }),
    ] });
  model.compile({ optimizer: kiln.optimizers.adam({ learningRate: 0.002 }), loss: 'meanAbsoluteError', metrics: ['meanAbsoluteError'] });
  const history = await model.fit(train as kiln.data.Dataset<[kiln.Tensor, kiln.Tensor]>, { epochs, verbose, validationData: val as kiln.data.Dataset<[kiln.Tensor, kiln.Tensor]> });
  const [, mae] = (await model.evaluate(test as kiln.data.Dataset<[kiln.Tensor, kiln.Tensor]>)) as kiln.Tensor[];
  // the naive forecast on the same test windows: the window's last day (a change of 0)
  let naive = 0;
  let count = 0;
  for (let p = valEnd; p + window < days; p++) {
    naive += Math.abs(tmax[p + window - 1]! - tmax[p + window]!);
    count++;
  }
  return { mae: mae!.itemSync(), naiveMae: naive / count, testWindows: count, history, model };
}
