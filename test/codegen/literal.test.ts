/** Number literals in emitted AssemblyScript: whole numbers get '.0', except those JavaScript prints with an exponent. */
import { expect, test } from 'vitest';
import { literal } from '../../compiler/ops/op.js';

test('float32 literals parse as AssemblyScript floats at every magnitude', () => {
  expect(literal(3)).toBe('<f32>3.0');
  expect(literal(-0)).toBe('<f32>-0.0');
  expect(literal(0.1)).toBe('<f32>0.100000001');
  expect(literal(-3.4e38)).toBe('<f32>-3.39999995e+38'); // was '-3.3999999521443642e+38.0', a parse error
  expect(literal(1e21)).toBe('<f32>1.00000002e+21');
  expect(literal(1e20)).toBe('<f32>100000002004087730000.0');
  expect(literal(Infinity)).toBe('Infinity');
  expect(literal(7.9, 'int32')).toBe('7');
});
