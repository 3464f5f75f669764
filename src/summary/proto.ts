/**
 * A small protocol-buffers encoder for the few messages event files hold:
 * Event, Summary, TensorProto, GraphDef, the plugins' data. Hand-written rather
 * than protobufjs: these messages need varints, fixed 32/64-bit numbers and
 * length-delimited fields only — about 100 lines, no schema to load at run time
 * and no code generator — where protobufjs would bring tens of KB of runtime
 * (its reflection build) or a pbjs generation step (its minimal build) to every
 * browser bundle that logs training. (reader.ts decodes with its own cursor.)
 *
 * Proto3 leaves fields at their default value out; the writer writes what it is
 * given, so callers skip defaults (but not members of a oneof, which must be
 * written even when zero).
 */
import { internal } from '../../compiler/errors.js';

const enum Wire { Varint = 0, Fixed64 = 1, Bytes = 2, Fixed32 = 5 }

const utf8 = new TextEncoder();

/** Appends fields to a growing buffer; `finish()` gives the message's bytes. @example new ProtoWriter().string(1, 'loss').double(2, 0.5).finish() */
export class ProtoWriter {
  private buf = new Uint8Array(64);
  private view = new DataView(this.buf.buffer);
  private pos = 0;

  private reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.pos + n));
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  private rawVarint(value: number): void {
    if (!Number.isInteger(value)) throw internal(`protobuf varint of a non-integer ${value}`);
    if (value < 0) return this.rawVarint64(BigInt(value));
    this.reserve(10);
    while (value >= 0x80) {
      this.buf[this.pos++] = (value % 0x80) | 0x80;
      value = Math.floor(value / 0x80);
    }
    this.buf[this.pos++] = value;
  }

  /** A negative int64 is its 64-bit two's complement: ten bytes. */
  private rawVarint64(value: bigint): void {
    let v = BigInt.asUintN(64, value);
    this.reserve(10);
    while (v >= 0x80n) {
      this.buf[this.pos++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buf[this.pos++] = Number(v);
  }

  private key(field: number, wire: Wire): void {
    this.rawVarint(field * 8 + wire);
  }

  /** int32, int64, uint32, uint64, enum (an integer, negative allowed). */
  varint(field: number, value: number): this {
    this.key(field, Wire.Varint);
    this.rawVarint(value);
    return this;
  }

  bool(field: number, value: boolean): this {
    return this.varint(field, value ? 1 : 0);
  }

  double(field: number, value: number): this {
    this.key(field, Wire.Fixed64);
    this.reserve(8);
    this.view.setFloat64(this.pos, value, true);
    this.pos += 8;
    return this;
  }

  float(field: number, value: number): this {
    this.key(field, Wire.Fixed32);
    this.reserve(4);
    this.view.setFloat32(this.pos, value, true);
    this.pos += 4;
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.key(field, Wire.Bytes);
    this.rawVarint(value.length);
    this.reserve(value.length);
    this.buf.set(value, this.pos);
    this.pos += value.length;
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, utf8.encode(value));
  }

  /** An embedded message, already encoded. */
  message(field: number, encoded: Uint8Array): this {
    return this.bytes(field, encoded);
  }

  /** A packed repeated int32/int64/enum/bool field. */
  packedVarints(field: number, values: readonly number[]): this {
    const inner = new ProtoWriter();
    for (const v of values) inner.rawVarint(v);
    return this.bytes(field, inner.finish());
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}
