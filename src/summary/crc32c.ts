/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as tfevents records
 * use, and TensorFlow's "masked" form of it (rotate right by 15, add a constant)
 * that keeps a CRC of data holding CRCs from looking like one. Browser-safe.
 */
let table: Uint32Array | undefined;

function makeTable(): Uint32Array {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
}

/**
 * The CRC-32C of `bytes` as an unsigned 32-bit number.
 * @example crc32c(new TextEncoder().encode('123456789')) // 0xe3069283
 */
export function crc32c(bytes: Uint8Array): number {
  const t = (table ??= makeTable());
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = t[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * TensorFlow's masked CRC-32C, stored after a record's length and after its data.
 * @example maskedCrc32c(new Uint8Array(8)) // the CRC of a zero length, masked
 */
export function maskedCrc32c(bytes: Uint8Array): number {
  const c = crc32c(bytes);
  return ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0;
}
