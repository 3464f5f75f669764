/**
 * kiln/runtime: the loader for compiled kiln modules. Browser-safe, with no
 * dependencies; it imports nothing outside this folder.
 *
 * The compiled-module format arrives with the wasm back end; until then this
 * entry point exports the format version that artifacts will be checked against.
 * @example import { formatVersion } from 'kiln/runtime';
 */
export const formatVersion = 1;
