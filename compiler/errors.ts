/**
 * @file Error kinds. A `KilnError` is the user's mistake and says what, where and
 * what was expected; a broken invariant is `Error("internal: …")`.
 */

export class KilnError extends Error {
  override name = 'KilnError';
}

/** A user error about `subject` (an op or layer), with the user's source line. */
export function userError(subject: string, message: string, origin?: string): KilnError {
  const at = origin ? ` (at ${origin})` : '';
  return new KilnError(`${subject}: ${message}${at}.`);
}

export function internal(message: string): Error {
  return new Error(`internal: ${message}`);
}

/** Thrown by shape/dtype rules; the caller adds the op name and source line. */
export class RuleError extends Error {
  override name = 'RuleError';
}

export function reject(message: string): never {
  throw new RuleError(message);
}
