/** The message of the KilnError `f` throws, with `file`'s line numbers replaced by `L` so assertions survive edits. */
import { expect } from 'vitest';
import { KilnError } from '../../compiler/errors.js';

export function messageOf(f: () => unknown, file: string): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(KilnError);
    return (e as Error).message.replaceAll(new RegExp(`${file}:\\d+`, 'g'), `${file}:L`);
  }
  throw new Error('expected an error');
}
