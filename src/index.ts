/**
 * kiln: define, differentiate and run tensor programs from TypeScript.
 *
 * @example
 * import * as kiln from 'kiln';
 * const x = kiln.tensor([[1, 2], [3, 4]]);
 * kiln.matmul(x, x).add(1).relu().arraySync(); // [[8, 11], [16, 23]]
 * const g = kiln.trace((a) => kiln.sum(kiln.tanh(a)), [kiln.spec([null, 4])]);
 * console.log(kiln.print(kiln.autodiff(g, { of: 'output', wrt: ['input'] })));
 */
export * from '../compiler/index.js';
export * as datasets from './datasets/index.js';
