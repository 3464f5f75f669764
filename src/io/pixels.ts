/**
 * @file Image decoding to pixels: PNG (fast-png) and JPEG (jpeg-js), pure
 * JavaScript, so it runs the same in Node, browsers and workers. The format is
 * read from the bytes' signature; pixels are float32 values 0–255 (16-bit PNGs
 * scaled down), as Keras's image loaders give them. Damaged or truncated files
 * are KilnErrors naming the source. This module needs nothing of the compiler,
 * so decode workers load it alone.
 */
import { convertIndexedToRgb, decode as decodePngBytes } from 'fast-png';
import jpeg from 'jpeg-js';
import { KilnError } from '../../compiler/errors.js';

/** The channels to return: 1 (grayscale), 3 (RGB) or 4 (RGBA); default: the file's own (1, 3 or 4; 2 becomes 4). */
export type Channels = 1 | 3 | 4;

export interface DecodeImageOptions {
  channels?: Channels;
  /** Names the source in errors (a file path). */
  name?: string;
}

export const isPng = (b: Uint8Array) => b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47;
export const isJpeg = (b: Uint8Array) => b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;

/** Decoded pixels: float32 values 0–255, row-major [height, width, channels]. */
export interface Pixels {
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  readonly data: Float32Array;
}

/**
 * A PNG or JPEG image's pixels, without the compiler (decode workers use it).
 * @example const { height, width, data } = decodePixels(bytes, { channels: 3 });
 */
export function decodePixels(bytes: Uint8Array | ArrayBuffer, options: DecodeImageOptions = {}): Pixels {
  const data = bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : bytes;
  const what = options.name ? `"${options.name}"` : 'the image';
  if (!(data instanceof Uint8Array)) throw new KilnError(`kiln.io.decodeImage: expected the file's bytes (a Uint8Array or ArrayBuffer), got ${data === null ? 'null' : typeof data}.`);
  if (options.channels !== undefined && ![1, 3, 4].includes(options.channels)) throw new KilnError(`kiln.io.decodeImage: expected channels 1, 3 or 4, got ${JSON.stringify(options.channels)}.`);
  let width: number;
  let height: number;
  let channels: number;
  let pixels: ArrayLike<number>;
  let scale = 1;
  try {
    if (isPng(data)) {
      const png = decodePngBytes(data);
      ({ width, height, channels } = png);
      if (png.palette) { // indexed colour: the palette's RGB(A) entries
        pixels = convertIndexedToRgb(png);
        channels = pixels.length / (width * height);
      } else {
        pixels = png.data;
        scale = png.depth === 16 ? 255 / 65535 : png.depth < 8 ? 255 / (2 ** png.depth - 1) : 1;
      }
    } else if (isJpeg(data)) {
      const img = jpeg.decode(data, { useTArray: true, formatAsRGBA: false, maxMemoryUsageInMB: 1024 });
      ({ width, height } = img);
      channels = jpegComponents(data) === 1 ? 1 : 3;
      pixels = channels === 1 ? img.data.filter((_, i) => i % 3 === 0) : img.data; // jpeg-js expands gray to RGB
    } else {
      throw new KilnError(`kiln.io.decodeImage: ${what} is neither PNG nor JPEG (its first bytes are ${Array.from(data.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ')}).`);
    }
  } catch (e) {
    if (e instanceof KilnError) throw e;
    throw new KilnError(`kiln.io.decodeImage: ${what} is damaged or truncated: ${(e as Error).message}.`);
  }
  if (!(width > 0 && height > 0) || pixels.length !== width * height * channels) throw new KilnError(`kiln.io.decodeImage: ${what} is damaged or truncated: ${pixels.length} values for ${width}×${height}×${channels}.`);
  const want = options.channels ?? (channels === 2 ? 4 : (channels as Channels));
  return { height, width, channels: want, data: convert(pixels, width * height, channels, want, scale) };
}

/** The number of colour components in a JPEG's frame header (SOF0–SOF15 but DHT, JPG, DAC), or undefined. */
export function jpegComponents(b: Uint8Array): number | undefined {
  for (let i = 2; i + 9 < b.length; ) {
    if (b[i] !== 0xff) return undefined;
    const marker = b[i + 1]!;
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) return b[i + 9];
    i += 2 + ((b[i + 2]! << 8) | b[i + 3]!);
  }
  return undefined;
}

/** Pixels from `from` channels to `to` (gray ↔ RGB with tf.image's luma weights, alpha dropped or set opaque). */
export function convert(pixels: ArrayLike<number>, n: number, from: number, to: number, scale: number): Float32Array {
  const out = new Float32Array(n * to);
  for (let i = 0; i < n; i++) {
    const p = i * from;
    const gray = from <= 2;
    const r = pixels[p]! * scale;
    const g = gray ? r : pixels[p + 1]! * scale;
    const b = gray ? r : pixels[p + 2]! * scale;
    const a = from === 2 ? pixels[p + 1]! * scale : from === 4 ? pixels[p + 3]! * scale : 255;
    const o = i * to;
    if (to === 1) out[o] = gray ? r : 0.2989 * r + 0.587 * g + 0.114 * b;
    else {
      out[o] = r;
      out[o + 1] = g;
      out[o + 2] = b;
      if (to === 4) out[o + 3] = a;
    }
  }
  return out;
}
