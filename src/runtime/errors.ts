/** The runtime's error: bad input, a corrupted artifact, a run-time check in the module. */
export class KilnRuntimeError extends Error {
  override name = 'KilnRuntimeError';
}
