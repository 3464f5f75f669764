/**
 * PNG encoding for image summaries: 8-bit grayscale, RGB or RGBA, filter type 0
 * on every row, the pixels deflated by fflate's zlib (already a kiln
 * dependency; ~8 KB of it is used here) inside our own chunk framing (IHDR,
 * IDAT, IEND, each with its CRC-32). pngjs needs Node streams and fast-png
 * brings pako and iobuffer; this is 40 lines and browser-safe.
 */
import { zlibSync } from 'fflate';
import { KilnError } from '../../compiler/errors.js';
import { crc32 } from '../runtime/crc32.js';

/** Height × width × channels bytes, row-major (as a [h, w, c] uint8 tensor). */
export interface RawImage {
  width: number;
  height: number;
  /** 1 (gray), 3 (RGB) or 4 (RGBA). */
  channels: 1 | 3 | 4;
  data: Uint8Array;
}

const colorType = { 1: 0, 3: 2, 4: 6 } as const;
const ascii = new TextEncoder();

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length + 12);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  const typeBytes = ascii.encode(type);
  out.set(typeBytes, 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, parseInt(crc32(typeBytes, data), 16));
  return out;
}

/**
 * The PNG file of an image.
 * @example const png = encodePng({ width: 2, height: 1, channels: 1, data: new Uint8Array([0, 255]) });
 */
export function encodePng(image: RawImage): Uint8Array {
  const { width, height, channels, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) throw new KilnError(`encodePng: expected a positive integer width and height, got ${width}×${height}.`);
  if (!(channels in colorType)) throw new KilnError(`encodePng: expected 1, 3 or 4 channels, got ${String(channels)}.`);
  const row = width * channels;
  if (data.length !== row * height) throw new KilnError(`encodePng: expected ${row * height} bytes for ${height}×${width}×${channels}, got ${data.length}.`);
  const filtered = new Uint8Array((row + 1) * height);
  for (let y = 0; y < height; y++) filtered.set(data.subarray(y * row, (y + 1) * row), y * (row + 1) + 1); // filter byte 0: none
  const header = new Uint8Array(13);
  const hv = new DataView(header.buffer);
  hv.setUint32(0, width);
  hv.setUint32(4, height);
  header.set([8, colorType[channels], 0, 0, 0], 8); // bit depth 8, colour type, deflate, adaptive filtering, no interlace
  const parts = [new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', zlibSync(filtered, { level: 6 })), chunk('IEND', new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) (out.set(p, at), (at += p.length));
  return out;
}
