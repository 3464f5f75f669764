/**
 * Image decoding for kiln: PNG and JPEG bytes become a float32 [height, width,
 * channels] Tensor with values 0–255 (the pixels come from `pixels.ts`).
 */
import { Tensor } from '../../compiler/tensor.js';
import { decodePixels, type DecodeImageOptions } from './pixels.js';

export { decodePixels, type Channels, type DecodeImageOptions, type Pixels } from './pixels.js';

/**
 * A PNG or JPEG image as a float32 [height, width, channels] Tensor (0–255).
 * @example const img = kiln.io.decodeImage(await readFile('cat.jpg'), { channels: 3 });
 */
export function decodeImage(bytes: Uint8Array | ArrayBuffer, options: DecodeImageOptions = {}): Tensor {
  const { height, width, channels, data } = decodePixels(bytes, options);
  return Tensor.concrete({ dtype: 'float32', shape: [height, width, channels], data });
}
