/**
 * The memory a compiled module imports, read from its binary: kiln's modules
 * import `env.memory` declared shared (so that threads can share it); on one
 * thread the loader clears that flag and gives the module ordinary memory.
 * Modules of older artifacts define and export their own memory instead.
 */

export interface MemoryImport {
  /** Byte offset of the limits' flag byte (0x03: shared with a maximum). */
  readonly flagAt: number;
  readonly initial: number;
  readonly maximum: number | undefined;
  readonly shared: boolean;
}

/** The module's memory import, or undefined when it has none (it defines its own memory). */
export function memoryImportOf(bytes: Uint8Array): MemoryImport | undefined {
  let at = 8; // magic and version
  const u32 = (): number => {
    let result = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = bytes[at++]!;
      result += (byte & 0x7f) * 2 ** shift;
      if (!(byte & 0x80)) return result;
    }
  };
  const name = () => { const n = u32(); at += n; };
  const limits = () => {
    const flags = bytes[at++]!;
    const initial = u32();
    return { flags, initial, maximum: flags & 1 ? u32() : undefined };
  };
  while (at < bytes.length) {
    const id = bytes[at++]!;
    const size = u32();
    const end = at + size;
    if (id === 2) {
      for (let count = u32(); count > 0; count--) {
        name();
        name();
        const kind = bytes[at++]!;
        if (kind === 0) u32(); // a function's type index
        else if (kind === 1) { at++; limits(); } // a table: element type, limits
        else if (kind === 3) at += 2; // a global: value type, mutability
        else if (kind === 2) {
          const flagAt = at;
          const { flags, initial, maximum } = limits();
          return { flagAt, initial, maximum, shared: (flags & 2) !== 0 };
        }
      }
      return undefined;
    }
    if (id > 2 && id !== 0) return undefined; // sections come in order: past the imports
    at = end;
  }
  return undefined;
}

/** A copy of the binary whose memory import is not shared. */
export function unshared(bytes: Uint8Array<ArrayBuffer>, memory: MemoryImport): Uint8Array<ArrayBuffer> {
  const copy = bytes.slice();
  copy[memory.flagAt] = copy[memory.flagAt]! & ~2;
  return copy;
}

/**
 * What a module needs to run on one thread: its bytes with the memory import's
 * shared flag cleared, and ordinary memory of the size it declares (none when
 * it defines its own memory).
 */
export function oneThread(bytes: Uint8Array<ArrayBuffer>): { bytes: Uint8Array<ArrayBuffer>; memory?: WebAssembly.Memory } {
  const memory = memoryImportOf(bytes);
  if (!memory) return { bytes };
  return {
    bytes: memory.shared ? unshared(bytes, memory) : bytes,
    memory: new WebAssembly.Memory({ initial: memory.initial, ...(memory.maximum === undefined ? {} : { maximum: memory.maximum }) }),
  };
}

let relaxed: boolean | undefined;
/**
 * Whether this engine runs relaxed SIMD (asked once, by validating a module of
 * one `f32x4.relaxed_madd`): Chrome, Firefox and Node ≥ 21 do; Node 20 only
 * with `--experimental-wasm-relaxed-simd`; Safari does not.
 */
export function relaxedSimdSupported(): boolean {
  if (relaxed === undefined) {
    const zeros = new Array<number>(16).fill(0);
    const constant = [0xfd, 0x0c, ...zeros]; // v128.const 0
    const body = [0x00, ...constant, ...constant, ...constant, 0xfd, 0x85, 0x02, 0x0b]; // no locals; relaxed_madd; end
    const bytes = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
      1, 5, 1, 0x60, 0, 1, 0x7b, // one type: () → v128
      3, 2, 1, 0, // one function of that type
      10, body.length + 2, 1, body.length, ...body]);
    try {
      relaxed = WebAssembly.validate(bytes);
    } catch {
      relaxed = false;
    }
  }
  return relaxed;
}
