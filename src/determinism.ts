/**
 * Deterministic mode: whether modules compiled from now on may use relaxed
 * SIMD's fused multiply-add, whose results can differ between engines and
 * machines (one rounding instead of two, and the engine picks). kiln is
 * deterministic by default: the same bits at any thread count, in Node and in
 * browsers.
 */
import { KilnError } from '../compiler/errors.js';
import { relaxedSimdSupported } from './runtime/wasm.js';

let deterministic = true;

/**
 * `kiln.setDeterministic(false)` lets modules compiled from now on use relaxed
 * SIMD's fused multiply-add in GEMM and convolutions where the engine has it
 * (Chrome, Firefox, Node ≥ 21; Node 20 with `--experimental-wasm-relaxed-simd`),
 * for speed; results then may differ in the last bits from the deterministic
 * build and between machines. `true` (the default) always builds the
 * deterministic kernels. Modules already compiled keep the kernels they were
 * built with; exported artifacts always carry the deterministic build.
 * @example kiln.setDeterministic(false); // faster GEMM and convolutions where the engine allows
 */
export function setDeterministic(flag: boolean): void {
  if (typeof flag !== 'boolean') throw new KilnError(`setDeterministic: expected true or false, got ${flag === undefined ? 'undefined' : typeof flag === 'object' && flag !== null ? 'an object' : JSON.stringify(flag)}.`);
  deterministic = flag;
}

/** Whether kiln is in deterministic mode (the default). @example kiln.getDeterministic(); // true */
export function getDeterministic(): boolean {
  return deterministic;
}

/** Whether a module compiled now uses relaxed SIMD: not deterministic, and the engine has it. */
export function useRelaxedSimd(): boolean {
  return !deterministic && relaxedSimdSupported();
}
