/**
 * examples/timeseries end to end on vega-datasets' seattle-weather.csv: the LSTM
 * and the causal Conv1D forecasters beat the naive "tomorrow as today" forecast.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { features, forecast, readSeries } from '../../examples/timeseries/forecast.js';

const root = dirname(dirname(createRequire(import.meta.url).resolve('vega-datasets')));

describe('examples/timeseries', () => {
  test('the series reads as 1,461 days of six features', async () => {
    const series = await readSeries(join(root, 'data', 'seattle-weather.csv'));
    expect(series).toHaveLength(1461);
    expect(series[0]).toHaveLength(features.length);
    expect(series[0]!.slice(0, 4)).toEqual([12.8, 5, 0, 4.7]); // 2012-01-01: temp_max, temp_min, precipitation, wind
    expect(series[0]![4]).toBeCloseTo(0, 10); // the first day of the year: sin 0, cos 1
  });

  for (const kind of ['lstm', 'conv1d'] as const) {
    test(`the ${kind} forecaster beats the naive forecast on the test days`, async () => {
      const series = await readSeries(join(root, 'data', 'seattle-weather.csv'));
      const { mae, naiveMae, testWindows } = await forecast(series, { kind, epochs: 30, seed: 0 });
      expect(testWindows).toBe(206);
      expect(naiveMae).toBeCloseTo(2.21, 2);
      expect(mae).toBeLessThan(naiveMae);
    }, 120_000);
  }
});
