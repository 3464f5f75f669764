/** `kiln.data`: tf.data-style input pipelines (`fromTensors(...).shuffle(...).batch(...)`), CSV files and tables, for `model.fit`, `evaluate` and `predict`. */
export { AUTOTUNE, Dataset, fromTensors, fromArray, generator, zip, type Batched, type InterleaveOptions, type PaddedBatchOptions, type PaddedShape, type Size, type Unbatched } from './dataset.js';
export { csv, csvFromString, type ColumnConfig, type ColumnDtype, type CsvOptions, type CsvSource } from './csv.js';
export { fromTable, type FromTableOptions, type TableCell } from './tables.js';
export { imageDatasetFromDirectory, type ImageDataset, type ImageDatasetOptions } from './imageFolder.js';
export { textDatasetFromDirectory, type TextDataset, type TextDatasetOptions } from './textFolder.js';
export { padSequences, timeseriesDatasetFromArray, type PadSequencesOptions, type TimeseriesOptions } from './sequences.js';
