/**
 * `kiln.summary`: TensorBoard event files. TF2-style summaries for custom loops
 * (createFileWriter, scalar, histogram, image, text), the event file writer and
 * reader, and the in-memory log store browsers write to. The Keras callback is
 * `kiln.callbacks.tensorBoard`, PyTorch's writer `kiln.utils.tensorboard.SummaryWriter`.
 * @example
 * const writer = kiln.summary.createFileWriter('logs/custom');
 * writer.setAsDefault();
 * for (let step = 0; step < 100; step++) kiln.summary.scalar('loss', lossAt(step), { step });
 * await writer.close();
 */
export { createFileWriter, setStep, scalar, histogram, image, text, SummaryFileWriter, type SummaryArgs } from './tfSummary.js';
export { EventFileWriter, type EventFileWriterOptions } from './writer.js';
export { memoryLogs, MemoryLogs, NodeFileSink, type LogSink } from './sinks.js';
export { readEventFile, readRecords, decodeEvent, decodeTensor, type DecodedEvent, type DecodedValue, type DecodedTensor, type EventFileContents } from './reader.js';
export { scalarValue, histogramValue, histogramBuckets, imageValue, textValue, hparamsExperimentValue, hparamsSessionStartValue, hparamsSessionEndValue, SessionStatus, type HParamValue } from './plugins.js';
export { encodeEvent, frameRecord, DataType, DataClass, type EventSpec, type SummaryValueSpec, type TensorProtoSpec } from './events.js';
export { encodePng, type RawImage } from './png.js';
export { graphDefOf, scopeRecorder } from './graphDef.js';
export { crc32c, maskedCrc32c } from './crc32c.js';
export { SummaryWriter, type SummaryWriterOptions } from './summaryWriter.js';
export { watchHint } from './tensorboard.js';
