/**
 * @file A decode worker (Node worker_threads): reads an image file and decodes
 * it to pixels off the main thread, so an input pipeline's decoding overlaps the
 * training step. Started by `decodePool.ts`; loads nothing of the compiler.
 */
import { readFile } from 'node:fs/promises';
import { parentPort } from 'node:worker_threads';
import { decodePixels } from './pixels.js';

export interface DecodeRequest {
  readonly id: number;
  readonly path: string;
  readonly channels?: 1 | 3 | 4;
  /** Names the file in errors. */
  readonly name: string;
}

export type DecodeReply =
  | { readonly id: number; readonly height: number; readonly width: number; readonly channels: number; readonly data: Float32Array }
  | { readonly id: number; readonly error: string; readonly decoding: boolean; readonly code?: string };

parentPort?.on('message', async (request: DecodeRequest) => {
  const { id, path, channels, name } = request;
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    parentPort!.postMessage({ id, error: (e as Error).message, decoding: false, code: (e as NodeJS.ErrnoException).code } satisfies DecodeReply);
    return;
  }
  try {
    const pixels = decodePixels(bytes, { channels, name });
    parentPort!.postMessage({ id, ...pixels } satisfies DecodeReply, [pixels.data.buffer as ArrayBuffer]);
  } catch (e) {
    parentPort!.postMessage({ id, error: (e as Error).message, decoding: true } satisfies DecodeReply);
  }
});
