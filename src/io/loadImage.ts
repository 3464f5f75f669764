/**
 * @file Loading an image from where it is: a file path or URL (read in Node,
 * fetched in browsers and workers), a Blob or File (an `<input type="file">`,
 * a drag and drop) or bytes. PNG is decoded in JavaScript everywhere (exact
 * 16-bit values and unpremultiplied alpha, which a canvas would lose); other
 * formats use the platform's decoder where there is one (`createImageBitmap`
 * and an OffscreenCanvas: JPEG, WebP, GIF, BMP, AVIF in browsers), else
 * jpeg-js (JPEG in Node). Imports nothing of the compiler, so a page or worker
 * bundles it alone.
 */
import { KilnError } from '../../compiler/errors.js';
import { convert, decodePixels, isJpeg, isPng, jpegComponents, type Channels, type Pixels } from './pixels.js';

export type ImageSource = string | URL | Blob | ArrayBuffer | Uint8Array;

export interface LoadImageOptions {
  /** 1 (grayscale), 3 (RGB) or 4 (RGBA); default: the image's own. */
  channels?: Channels;
}

const who = 'kiln.io.loadImage';

/** The platform decoder, when there is one (browsers and their workers). */
const platform = (): boolean => typeof createImageBitmap === 'function' && typeof OffscreenCanvas === 'function';

async function bytesOf(source: ImageSource): Promise<{ bytes: Uint8Array; name: string }> {
  if (source instanceof Uint8Array) return { bytes: source, name: 'the image' };
  if (source instanceof ArrayBuffer) return { bytes: new Uint8Array(source), name: 'the image' };
  if (typeof Blob !== 'undefined' && source instanceof Blob) return { bytes: new Uint8Array(await source.arrayBuffer()), name: (source as File).name ?? 'the image' };
  if (typeof source !== 'string' && !(source instanceof URL)) throw new KilnError(`${who}: expected a path, a URL, a Blob or bytes, got ${source === null ? 'null' : typeof source}.`);
  const text = String(source);
  const isUrl = source instanceof URL || /^[a-z][a-z0-9+.-]*:\/\//i.test(text);
  const node = typeof process !== 'undefined' && Boolean(process.versions?.node);
  // in Node a string that is not a URL is a file path; in a browser, a URL relative to the page
  if (node && (!isUrl || text.startsWith('file:'))) {
    const { readFile } = await import('node:fs/promises');
    const { fileURLToPath } = await import('node:url');
    const path = isUrl ? fileURLToPath(text) : text;
    try {
      return { bytes: new Uint8Array(await readFile(path)), name: path };
    } catch (e) {
      throw new KilnError(`${who}: cannot read "${path}": ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`);
    }
  }
  let response: Response;
  try {
    response = await fetch(text);
  } catch (e) {
    throw new KilnError(`${who}: cannot fetch "${text}": ${(e as Error).message}.`);
  }
  if (!response.ok) throw new KilnError(`${who}: fetching "${text}" answered ${response.status} ${response.statusText}.`);
  return { bytes: new Uint8Array(await response.arrayBuffer()), name: text };
}

/** Decodes with createImageBitmap into an OffscreenCanvas: RGBA bytes, colour values as stored (no colour-space conversion). */
async function platformPixels(bytes: Uint8Array, name: string, channels: Channels | undefined): Promise<Pixels> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(new Blob([bytes as Uint8Array<ArrayBuffer>]), { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  } catch (e) {
    throw new KilnError(`${who}: "${name}" is damaged or in a format this browser cannot decode (${(e as Error).message}).`);
  }
  const { width, height } = bitmap;
  const context = new OffscreenCanvas(width, height).getContext('2d', { willReadFrequently: true });
  if (!context) throw new KilnError(`${who}: this browser has no 2D canvas to decode "${name}" with.`);
  context.drawImage(bitmap, 0, 0);
  bitmap.close();
  const rgba = context.getImageData(0, 0, width, height).data;
  // a grayscale JPEG decodes to equal R, G and B: its own channel count is the frame header's
  const own = isJpeg(bytes) ? (jpegComponents(bytes) === 1 ? 1 : 3) : 4;
  const want = channels ?? (own as Channels);
  const source = own === 1 ? rgba.filter((_, i) => i % 4 === 0) : own === 3 ? rgba.filter((_, i) => i % 4 !== 3) : rgba;
  return { height, width, channels: want, data: convert(source, width * height, own, want, 1) };
}

/**
 * An image's pixels from a path, URL, Blob or bytes (float32 values 0–255,
 * [height, width, channels] row-major).
 * @example const { height, width, data } = await loadPixels(fileInput.files[0], { channels: 3 });
 */
export async function loadPixels(source: ImageSource, options: LoadImageOptions = {}): Promise<Pixels> {
  if (options.channels !== undefined && ![1, 3, 4].includes(options.channels)) throw new KilnError(`${who}: expected channels 1, 3 or 4, got ${JSON.stringify(options.channels)}.`);
  const { bytes, name } = await bytesOf(source);
  if (!isPng(bytes) && platform()) return platformPixels(bytes, name, options.channels);
  return decodePixels(bytes, { channels: options.channels, name });
}
