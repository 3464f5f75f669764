/**
 * Image decoding for kiln: PNG and JPEG bytes become a float32 [height, width,
 * channels] Tensor with values 0–255 (the pixels come from `pixels.ts`).
 */
import { Tensor } from '../../compiler/tensor.js';
import { loadPixels, type ImageSource, type LoadImageOptions } from './loadImage.js';
import { decodePixels, type DecodeImageOptions } from './pixels.js';

export { decodePixels, type Channels, type DecodeImageOptions, type Pixels } from './pixels.js';
export { loadPixels, type ImageSource, type LoadImageOptions } from './loadImage.js';

/**
 * A PNG or JPEG image as a float32 [height, width, channels] Tensor (0–255).
 * @example const img = kiln.io.decodeImage(await readFile('cat.jpg'), { channels: 3 });
 */
export function decodeImage(bytes: Uint8Array | ArrayBuffer, options: DecodeImageOptions = {}): Tensor {
  const { height, width, channels, data } = decodePixels(bytes, options);
  return Tensor.concrete({ dtype: 'float32', shape: [height, width, channels], data });
}

/**
 * An image as a float32 [height, width, channels] Tensor (0–255), from a file
 * path or URL (read in Node, fetched in browsers), a Blob or File, or bytes:
 * PNG decoded in JavaScript, other formats by the browser's own decoder where
 * there is one (JPEG, WebP, GIF, BMP, AVIF), else jpeg-js.
 * @example const img = await kiln.io.loadImage('photos/cat.jpg', { channels: 3 });
 * @example const img = await kiln.io.loadImage(fileInput.files[0]);
 */
export async function loadImage(source: ImageSource, options: LoadImageOptions = {}): Promise<Tensor> {
  const { height, width, channels, data } = await loadPixels(source, options);
  return Tensor.concrete({ dtype: 'float32', shape: [height, width, channels], data });
}
