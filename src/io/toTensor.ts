/**
 * From a file's array to a kiln tensor (float32, int32 or bool), by the rules
 * the design sets: float64 narrows to float32, as PyTorch and Keras do; int64
 * narrows to int32 only when every value fits; uint8 widens to int32 (or float32).
 */
import { Tensor } from '../../compiler/tensor.js';
import type { DType } from '../../compiler/types.js';
import { asNpyArray, fail, type NpyArray, type NpyArrayLike } from './npyArray.js';

export interface ToTensorOptions {
  /**
   * The dtype uint8 arrays become: 'int32' (default; exact, as TensorFlow.js does
   * with a Uint8Array, and what labels want) or 'float32' (values 0–255, not
   * rescaled; what images usually want next).
   */
  readonly uint8As?: 'int32' | 'float32';
  /** Who is converting, for errors: a file's path, say. */
  readonly name?: string;
}

/**
 * A kiln tensor holding the array's values. To keep float64 or int64 values as
 * they are, use the array itself (from `decodeNpy`, `decodeNpz`, `decodeSafetensors`).
 * @example toTensor(decodeNpy(bytes)).shape // [2, 3]
 * @example toTensor(images, { uint8As: 'float32' }).div(255)
 */
export function toTensor(array: NpyArray | NpyArrayLike, options: ToTensorOptions = {}): Tensor {
  const subject = options.name ?? 'toTensor';
  const { dtype, shape, data } = asNpyArray(array, subject);
  const make = (dt: DType, values: Float32Array | Int32Array | Uint8Array) => Tensor.concrete({ dtype: dt, shape, data: values });
  switch (dtype) {
    case 'float32': return make('float32', (data as Float32Array).slice());
    case 'float64': return make('float32', Float32Array.from(data as Float64Array));
    case 'int32': return make('int32', (data as Int32Array).slice());
    case 'bool': return make('bool', new Uint8Array(data as Uint8Array));
    case 'uint8': return options.uint8As === 'float32' ? make('float32', Float32Array.from(data as Uint8Array)) : make('int32', Int32Array.from(data as Uint8Array));
    case 'int64': return make('int32', narrowInt64(data as BigInt64Array, subject));
    default: return dtype satisfies never;
  }
}

function narrowInt64(data: BigInt64Array, subject: string): Int32Array {
  const out = new Int32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v < -2147483648n || v > 2147483647n) {
      fail(subject, `int64 value ${v} at flat index ${i} does not fit in int32, the widest integer kiln tensors hold; decode the file to an array to keep int64 values`);
    }
    out[i] = Number(v);
  }
  return out;
}
