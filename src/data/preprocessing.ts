/**
 * `kiln.preprocessing`: Keras's ImageDataGenerator, and the row encoder that
 * turns raw record rows into a model's inputs (and travels with the model).
 * @example const enc = kiln.preprocessing.rowEncoder({ x: { columns: ['a', 'b'] } });
 */
export * from './imageDataGenerator.js';
export { RowEncoder, rowEncoder, rowEncoderFromJSON, type CrossedColumns, type HashingColumn, type LookupColumn, type NumericColumns, type RowFeature } from '../layers/preprocessing/rowEncoder.js';
export type { FeatureSpec, Row, RowsSpec } from '../runtime/rows.js';
