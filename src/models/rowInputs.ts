/**
 * A model's row encoder (`model.setRowEncoder`): checked against the model's
 * inputs (one feature per input, by name; the dtype and width each input takes),
 * used by `model.predictRows`, and written as JSON, in the model's input order,
 * by `model.save` and `model.export`.
 */
import { KilnError } from '../../compiler/errors.js';
import type { Tensor } from '../../compiler/tensor.js';
import type { RowEncoder } from '../layers/preprocessing/rowEncoder.js';
import type { Row, RowsSpec } from '../runtime/rows.js';
import type { LayersModel } from './model.js';

/** The encoder's inputs in the model's input order (a model whose inputs have no names takes a one-feature encoder). */
function inputOrder(model: LayersModel, encoder: RowEncoder, subject: string): string[] {
  const signature = model.inputSignature();
  const given = encoder.inputNames;
  if (signature.every((s) => s.name === undefined)) {
    if (signature.length === 1 && given.length === 1) return given;
    throw new KilnError(`${subject}: ${model.subject} has ${signature.length} unnamed input${signature.length === 1 ? '' : 's'}; the row encoder gives ${given.length} (${given.map((n) => `"${n}"`).join(', ')}). Name the inputs (kiln.input({ name })) to match.`);
  }
  const names = signature.map((s) => s.name!);
  if (names.length !== given.length || names.some((n) => !given.includes(n))) {
    throw new KilnError(`${subject}: ${model.subject} takes the inputs ${names.map((n) => `"${n}"`).join(', ')}; the row encoder gives ${given.map((n) => `"${n}"`).join(', ')}.`);
  }
  return names;
}

/** The encoder's JSON in the model's input order, after checking each input's dtype and width. @example rowsSpecFor(model, model.rowEncoder!, 'export') */
export function rowsSpecFor(model: LayersModel, encoder: RowEncoder, subject: string): RowsSpec {
  const order = inputOrder(model, encoder, subject);
  const shapes = encoder.shapes();
  model.inputSignature().forEach((s, i) => {
    const { dtype, width } = shapes[order[i]!]!;
    if (s.dtype !== dtype || s.shape.length !== 1 || s.shape[0] !== width) {
      throw new KilnError(`${subject}: input "${order[i]}" of ${model.subject} takes ${s.dtype}[n,${s.shape.join(',')}]; the row encoder gives ${dtype}[n,${width}].`);
    }
  });
  return encoder.toJSON(order);
}

/** Predictions for raw rows: encoded by the model's encoder, then `model.predict`. @example predictRows(model, model.rowEncoder, rows, {}) */
export function predictRows(model: LayersModel, encoder: RowEncoder | undefined, rows: readonly Row[], args: { batchSize?: number }): Tensor | Tensor[] {
  if (!encoder) throw new KilnError(`predictRows: ${model.subject} has no row encoder; give it one with model.setRowEncoder(kiln.preprocessing.rowEncoder({ … })).`);
  const order = inputOrder(model, encoder, 'predictRows');
  const x = encoder.encodeList(rows, order);
  return model.predict(x.length === 1 ? x[0]! : x, args);
}
