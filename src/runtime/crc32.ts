/**
 * CRC-32 (the IEEE 802.3 polynomial, as zip and PNG use), to detect corrupted
 * files — not a cryptographic hash. Browser-safe and synchronous.
 */
let table: Uint32Array | undefined;

function makeTable(): Uint32Array {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
}

/** The CRC-32 of `parts` taken as one byte string, as 8 lowercase hex digits. */
export function crc32(...parts: Uint8Array[]): string {
  const t = (table ??= makeTable());
  let c = 0xffffffff;
  for (const bytes of parts) for (let i = 0; i < bytes.length; i++) c = t[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ((c ^ 0xffffffff) >>> 0).toString(16).padStart(8, '0');
}
