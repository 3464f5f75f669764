"""Writes reference.safetensors by the rules of the safetensors reference writer,
using the Python standard library only (no kiln code, no safetensors package):

- tensors sorted by dtype in the reference's Dtype enum order, descending
  (BOOL < U8 < ... < I32 < U32 < F32 < F64 < I64 < U64), then by name;
- data packed contiguously in that order, little-endian, C order;
- header: compact JSON, "__metadata__" first, then tensors as
  {"dtype", "shape", "data_offsets"}; padded with spaces to a multiple of 8;
- an 8-byte little-endian header length in front.

Run from the repository root: python3 scripts/make_reference_safetensors.py
"""
import json
import os
import struct

ENUM_ORDER = ["BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "F64", "I64", "U64"]
PACK = {"BOOL": "?", "U8": "B", "I32": "i", "F32": "f", "F64": "d", "I64": "q"}

TENSORS = {
    "b.mask": ("BOOL", [3], [True, False, True]),
    "a.bytes": ("U8", [2, 2], [0, 1, 254, 255]),
    "z.counts": ("I64", [2], [-1, 2**40]),
    "y.int64": ("I64", [1], [5]),
    "a.double": ("F64", [], [3.5]),
    "m.float": ("F32", [2, 3], [0.5, -1.25, 2.0, 1e-3, 3.0e38, -0.0]),
    "c.empty": ("F32", [0], []),
    "n.int": ("I32", [2], [-7, 2147483647]),
}
METADATA = {"format": "pt"}


def build():
    names = sorted(TENSORS, key=lambda n: (-ENUM_ORDER.index(TENSORS[n][0]), n.encode("utf-8")))
    header = {"__metadata__": METADATA}
    chunks = []
    offset = 0
    for name in names:
        dtype, shape, values = TENSORS[name]
        data = struct.pack("<%d%s" % (len(values), PACK[dtype]), *values)
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        chunks.append(data)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(chunks)


if __name__ == "__main__":
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "io", "reference.safetensors")
    with open(out, "wb") as f:
        f.write(build())
