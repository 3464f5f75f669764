// The first free byte after the module's static data, 64-byte aligned: where the
// memory plan's arena starts (and where kernel tests place their arrays).
export function arena_base(): usize {
  return (__heap_base + 63) & ~(<usize>63);
}
