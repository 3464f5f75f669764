/** Built-in data sets. */
export * as fashionMnist from './fashionMnist.js';
export { parseIdx, readIdx, type IdxArray } from './idx.js';
