/**
 * @file The op table: every primitive, one definition each, joined from the
 * families in this folder. The mapped type makes a family that leaves out a rule,
 * or an op without a row, a type error.
 */
import { coreOps, type CoreParams } from './core.js';
import { unaryOps, type UnaryParams } from './unary.js';
import { binaryOps, type BinaryParams } from './binary.js';
import { reduceOps, type ReduceOpParams } from './reduce.js';
import { linalgOps, type LinalgParams } from './linalg.js';
import { movementOps, type MovementParams } from './movement.js';
import { convOps, type ConvParams } from './conv.js';
import { randomOps, type RandomParams } from './random.js';
import { scanOps, type ScanParams } from './scan.js';
import type { OpDef } from './op.js';

export interface OpParams extends CoreParams, UnaryParams, BinaryParams, ReduceOpParams, LinalgParams, MovementParams, ConvParams, RandomParams, ScanParams {}
export type OpName = keyof OpParams;
export type OpTable = { readonly [K in OpName]: OpDef<OpParams[K]> };

export const ops: OpTable = { ...coreOps, ...unaryOps, ...binaryOps, ...reduceOps, ...linalgOps, ...movementOps, ...convOps, ...randomOps, ...scanOps };

export const opNames = Object.keys(ops) as OpName[];

/** The ops whose backend is a scalar expression that fused elementwise loops inline. */
export function isElementwise(op: OpName): boolean {
  return 'emit' in ops[op].backend;
}
