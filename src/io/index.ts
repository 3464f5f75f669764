/**
 * `kiln.io`: NumPy (.npy, .npz) and safetensors files. The codecs work on bytes
 * and run anywhere; the save/load helpers read and write files in Node.
 *
 * @example
 * await kiln.io.saveNpy('x.npy', kiln.tensor([[1, 2], [3, 4]]));   // np.load('x.npy')
 * const x = await kiln.io.loadNpy('x.npy');
 * await kiln.io.saveSafetensors('w.safetensors', { w: x }, { format: 'pt' });
 */
import type { Tensor } from '../../compiler/tensor.js';
import { decodeNpy, encodeNpy, type EncodeNpyOptions } from './npy.js';
import type { NpyArrayLike } from './npyArray.js';
import { toTensor, type ToTensorOptions } from './toTensor.js';

export { decodeImage, loadImage, type Channels, type DecodeImageOptions, type ImageSource, type LoadImageOptions } from './image.js';
export { decodeNpy, encodeNpy, type EncodeNpyOptions } from './npy.js';
export { decodeNpz, encodeNpz, type EncodeNpzOptions } from './npz.js';
export { decodeSafetensors, encodeSafetensors, type Safetensors } from './safetensors.js';
export { fromTensor, npyDtypes, type NpyArray, type NpyArrayLike, type NpyData, type NpyDtype } from './npyArray.js';
export { toTensor, type ToTensorOptions } from './toTensor.js';
export {
  loadNpy, loadNpz, loadSafetensors, saveNpy, saveNpz, saveSafetensors, writeFileAtomic, type LoadOptions,
} from './files.js';

/**
 * The bytes of a .npy file holding the tensor (as `np.save` writes).
 * @example writeFileSync('x.npy', kiln.io.toNpy(kiln.tensor([1, 2, 3])));
 */
export function toNpy(x: Tensor | NpyArrayLike, options?: EncodeNpyOptions): Uint8Array {
  return encodeNpy(x, options);
}

/**
 * A tensor from the bytes of a .npy file: float64 becomes float32, int64 int32.
 * @example kiln.io.fromNpy(readFileSync('x.npy')).arraySync()
 */
export function fromNpy(bytes: Uint8Array, options: ToTensorOptions = {}): Tensor {
  const array = decodeNpy(bytes, options.name);
  return toTensor(array, options);
}
