/** kiln.data.csv / csvFromString / fromTable, and fit feeding named inputs from records. Real data: vega-datasets (BSD-3-Clause). */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as aq from 'arquero';
import { tableFromJSON } from 'apache-arrow';
import { describe, expect, test } from 'vitest';
import * as kiln from '../../src/index.js';

const require = createRequire(import.meta.url);
// the package's exports hide its data folder; find it next to its package.json
const vegaRoot = dirname(dirname(require.resolve('vega-datasets'))); // <root>/build/index.js
const vega = (file: string) => join(vegaRoot, 'data', file);
const reference = JSON.parse(readFileSync(new URL('../fixtures/data/seattle-weather.json', import.meta.url), 'utf8'));
type Rec = Record<string, unknown>;

describe('kiln.data.csvFromString', () => {
  test('header, quotes, CRLF, comments; types inferred; missing values NaN, "" or the default', async () => {
    const text = 'name,age,city,score\r\n# a comment\r\n"Smith, J",41,"Oslo",1.5\r\nLee,,Lima,NA\r\n"Say ""hi""",7,,2\r\n';
    const rows = (await kiln.data.csvFromString(text, { comment: '#', columnConfigs: { score: { default: -1 } } }).toArray()) as Rec[];
    expect(rows.length).toBe(3);
    expect(rows[0]).toEqual({ name: 'Smith, J', age: 41, city: 'Oslo', score: 1.5 });
    expect(rows[1]!.age).toBeNaN();
    expect(rows[1]!.score).toBe(-1);
    expect(rows[2]).toEqual({ name: 'Say "hi"', age: 7, city: '', score: 2 });
  });

  test('label columns split off as { xs, ys }; integer labels become int32', async () => {
    const text = 'a,b,label\n1,2,0\n3,4,1\n5,6,2\n';
    const rows = await kiln.data.csvFromString(text, { columnConfigs: { label: { isLabel: true } } }).toArray();
    const first = rows[0] as { xs: Rec; ys: kiln.Tensor };
    expect(first.xs).toEqual({ a: 1, b: 2 });
    expect(first.ys.dtype).toBe('int32');
    const [batch] = await kiln.data.csvFromString(text, { columnConfigs: { label: { isLabel: true } } }).batch(3).toArray();
    const b = batch as unknown as { xs: Record<string, kiln.Tensor>; ys: kiln.Tensor };
    expect(b.xs.a!.arraySync()).toEqual([1, 3, 5]);
    expect(b.ys.arraySync()).toEqual([0, 1, 2]);
    expect(b.ys.dtype).toBe('int32');
  });

  test('no header: columnNames; configuredColumnsOnly; a given dtype; a delimiter', async () => {
    const rows = await kiln.data.csvFromString('1;x;3\n4;y;6\n', { hasHeader: false, columnNames: ['p', 'q', 'r'], delimiter: ';', columnConfigs: { p: { dtype: 'string' }, r: {} }, configuredColumnsOnly: true }).toArray();
    expect(rows).toEqual([{ p: '1', r: 3 }, { p: '4', r: 6 }]);
  });

  test('a ragged row or a bad number is an error naming the row and column; skipErrors skips and reports them', async () => {
    const text = 'x,y\n1,2\n3\n4,5\n6,seven\n';
    await expect(kiln.data.csvFromString(text).toArray()).rejects.toThrow('kiln.data.csv: the CSV text, row 2: expected 2 fields, got 1.');
    const skipped: string[] = [];
    const rows = await kiln.data.csvFromString(text, { skipErrors: true, onSkip: (r) => skipped.push(r), columnConfigs: { y: { dtype: 'float32' } } }).toArray();
    expect(rows).toEqual([{ x: 1, y: 2 }, { x: 4, y: 5 }]);
    expect(skipped).toEqual(['kiln.data.csv: the CSV text, row 2: expected 2 fields, got 1', 'kiln.data.csv: the CSV text, row 4: column "y" (float32) expected a number, got "seven"']);
    // inferred from the first rows as a number, a later word is an error, not a silent NaN
    await expect(kiln.data.csvFromString(text.replace('3\n', '3,3\n'), { inferRows: 2 }).toArray()).rejects.toThrow('kiln.data.csv: the CSV text, row 4: column "y" (float32) expected a number, got "seven".');
  });

  test('bad options and configs are named', () => {
    expect(() => kiln.data.csvFromString('a\n1\n', { header: true } as never)).toThrow("unknown option 'header'");
    expect(() => kiln.data.csvFromString('a\n1\n', { columnConfigs: { a: { type: 'int32' } as never } })).toThrow("unknown option 'type'");
    expect(() => kiln.data.csvFromString('a\n1\n', { hasHeader: false })).toThrow('kiln.data.csv: expected columnNames when hasHeader is false.');
  });

  test('columnConfigs naming a missing column, a required value missing', async () => {
    await expect(kiln.data.csvFromString('a,b\n1,2\n', { columnConfigs: { c: {} } }).toArray()).rejects.toThrow('kiln.data.csv: columnConfigs names "c", which is not a column of the CSV text (columns: a, b).');
    await expect(kiln.data.csvFromString('a,b\n1,\n', { columnConfigs: { b: { required: true } } }).toArray()).rejects.toThrow('kiln.data.csv: the CSV text, row 1: column "b" is required but missing.');
  });
});

describe('kiln.data.csv on files and streams', () => {
  test('seattle-weather.csv: every row, the sums and label counts Python’s csv module gives', async () => {
    const ds = kiln.data.csv(vega('seattle-weather.csv'), { columnConfigs: { weather: { isLabel: true } } });
    const rows = (await ds.toArray()) as { xs: Rec; ys: string }[];
    expect(rows.length).toBe(reference.rows);
    for (const c of Object.keys(reference.sums)) {
      expect(rows.reduce((s, r) => s + (r.xs[c] as number), 0)).toBeCloseTo(reference.sums[c], 6);
    }
    const counts: Record<string, number> = {};
    for (const r of rows) counts[r.ys] = (counts[r.ys] ?? 0) + 1;
    expect(counts).toEqual(reference.weather);
    expect(rows.at(-1)!.xs.date).toBe(reference.last.date);
    // a second iteration reads the file again
    expect((await ds.take(3).toArray()).length).toBe(3);
  });

  test('a stream of chunks cut mid-field and mid-quote parses as the whole text does', async () => {
    const text = 'id,note\n' + Array.from({ length: 500 }, (_, i) => `${i},"line ${i}, with ""quotes"""`).join('\n') + '\n';
    const bytes = new TextEncoder().encode(text);
    async function* chunks() {
      for (let i = 0; i < bytes.length; i += 37) yield bytes.subarray(i, i + 37);
    }
    const streamed = (await kiln.data.csv(chunks()).toArray()) as Rec[];
    expect(streamed.length).toBe(500);
    expect(streamed[499]).toEqual({ id: 499, note: 'line 499, with "quotes"' });
    expect(streamed).toEqual(await kiln.data.csvFromString(text).toArray());
  });

  test('a missing file is a KilnError naming it', async () => {
    await expect(kiln.data.csv('/nonexistent/rows.csv').toArray()).rejects.toThrow('kiln.data.csv: cannot read "/nonexistent/rows.csv": ENOENT.');
  });
});

describe('kiln.data.fromTable', () => {
  const penguins = JSON.parse(readFileSync(vega('penguins.json'), 'utf8')) as Rec[];

  test('row objects, an arquero table and an Arrow table give the same records (null → NaN or "")', async () => {
    const fromRows = (await kiln.data.fromTable(penguins, { label: 'Species' }).toArray()) as { xs: Rec; ys: string }[];
    expect(fromRows.length).toBe(344);
    expect(fromRows[0]).toEqual({ xs: { Island: 'Torgersen', 'Beak Length (mm)': 39.1, 'Beak Depth (mm)': 18.7, 'Flipper Length (mm)': 181, 'Body Mass (g)': 3750, Sex: 'MALE' }, ys: 'Adelie' });
    expect(fromRows[3]!.xs['Body Mass (g)']).toBeNaN();
    expect(fromRows[3]!.xs.Sex).toBe('');
    const fromArquero = await kiln.data.fromTable(aq.from(penguins), { label: 'Species' }).toArray();
    const fromArrow = await kiln.data.fromTable(tableFromJSON(penguins as never), { label: 'Species' }).toArray();
    expect(fromArquero).toEqual(fromRows);
    expect(fromArrow).toEqual(fromRows);
  });

  test('columns to keep; unknown columns and non-tables are named', async () => {
    const rows = await kiln.data.fromTable(penguins, { columns: ['Island', 'Sex'] }).take(1).toArray();
    expect(rows).toEqual([{ Island: 'Torgersen', Sex: 'MALE' }]);
    expect(() => kiln.data.fromTable(penguins, { label: 'species' })).toThrow('kiln.data.fromTable: no column "species" (columns: Species, Island, Beak Length (mm), Beak Depth (mm), Flipper Length (mm), Body Mass (g), Sex).');
    expect(() => kiln.data.fromTable(42)).toThrow('kiln.data.fromTable: expected an array of row objects, an arquero table or an Apache Arrow table, got number.');
  });
});

describe('fit and evaluate feed named inputs from records', () => {
  test('a two-input functional model trains from { xs: { a, b }, ys } batches; keys are checked', async () => {
    const a = kiln.input({ shape: [1], name: 'a' });
    const b = kiln.input({ shape: [2], name: 'b' });
    const merged = kiln.layers.concatenate().apply([a, b]) as kiln.SymbolicTensor;
    const out = kiln.layers.dense({ units: 2 }).apply(merged) as kiln.SymbolicTensor;
    const model = kiln.model({ inputs: [a, b], outputs: out });
    model.compile({ optimizer: kiln.optimizers.adam({ learningRate: 0.05 }), loss: kiln.losses.sparseCategoricalCrossentropy({ fromLogits: true }), metrics: ['accuracy'] });
    const n = 64;
    const rows = Array.from({ length: n }, (_, i) => ({ xs: { a: i % 2 ? 1 : -1, b: kiln.tensor([Math.sin(i), Math.cos(i)]) }, ys: kiln.tensor([i % 2], [], 'int32') }));
    const ds = kiln.data.fromArray(rows).batch(16);
    const history = await model.fit(ds, { epochs: 15, verbose: 0 });
    const losses = history.history.loss as number[];
    expect(losses.at(-1)!).toBeLessThan(losses[0]! * 0.5);
    const [, accuracy] = (await model.evaluate(ds)) as kiln.Tensor[];
    expect(accuracy!.itemSync()).toBe(1);
    const wrong = kiln.data.fromArray(rows.map((r) => ({ xs: { a: r.xs.a, c: r.xs.b }, ys: r.ys }))).batch(16);
    await expect(model.evaluate(wrong)).rejects.toThrow('evaluate: expected x to have a key for every input (a, b), got a, c; missing b.');
  });
});
