#!/usr/bin/env python3
"""Dumps TensorBoard event files as JSON, independently of kiln's writer.

Usage: read_tfevents.py <log folder or event file> [...]
Prints {"files": {path: {"events": [...], "error": ...}}} on stdout.

The decoder shares nothing with kiln's TypeScript: the record framing is read
with struct, CRC-32C is computed bit by bit here, and the messages are parsed by
Debian's python3-protobuf from a schema written below from TensorFlow's and
TensorBoard's .proto files (event.proto, summary.proto, tensor.proto,
tensor_shape.proto, graph.proto, node_def.proto, attr_value.proto and the
hparams plugin's api.proto / plugin_data.proto), built with descriptor_pb2 so
no protoc is needed. Every message must parse with no unknown fields. Images
are PNG files checked chunk by chunk (zlib's CRC-32) and inflated with zlib.
"""
import json
import math
import os
import struct
import sys
import zlib

from google.protobuf import descriptor_pb2, descriptor_pool, json_format, struct_pb2

try:
    from google.protobuf import message_factory

    def _class(pool, name):
        desc = pool.FindMessageTypeByName(name)
        if hasattr(message_factory, "GetMessageClass"):
            return message_factory.GetMessageClass(desc)
        return message_factory.MessageFactory(pool).GetPrototype(desc)
except ImportError:  # pragma: no cover
    raise

F = descriptor_pb2.FieldDescriptorProto
OPT, REP = F.LABEL_OPTIONAL, F.LABEL_REPEATED
T = {
    "double": F.TYPE_DOUBLE, "float": F.TYPE_FLOAT, "int64": F.TYPE_INT64, "int32": F.TYPE_INT32,
    "bool": F.TYPE_BOOL, "string": F.TYPE_STRING, "bytes": F.TYPE_BYTES, "enum": F.TYPE_INT32,
}

# message name -> fields (name, number, type or .Message, repeated?, oneof?)
SCHEMA = {
    "TensorShapeProto": [("dim", 2, ".kiln_tb.TensorShapeProto.Dim", True), ("unknown_rank", 3, "bool")],
    "TensorShapeProto.Dim": [("size", 1, "int64"), ("name", 2, "string")],
    "TensorProto": [
        ("dtype", 1, "enum"), ("tensor_shape", 2, ".kiln_tb.TensorShapeProto"), ("version_number", 3, "int32"),
        ("tensor_content", 4, "bytes"), ("float_val", 5, "float", True), ("double_val", 6, "double", True),
        ("int_val", 7, "int32", True), ("string_val", 8, "bytes", True), ("int64_val", 10, "int64", True),
        ("bool_val", 11, "bool", True), ("half_val", 13, "int32", True),
    ],
    "SummaryMetadata": [
        ("plugin_data", 1, ".kiln_tb.SummaryMetadata.PluginData"), ("display_name", 2, "string"),
        ("summary_description", 3, "string"), ("data_class", 4, "enum"),
    ],
    "SummaryMetadata.PluginData": [("plugin_name", 1, "string"), ("content", 2, "bytes")],
    "Summary": [("value", 1, ".kiln_tb.Summary.Value", True)],
    "Summary.Value": [
        ("node_name", 7, "string"), ("tag", 1, "string"), ("metadata", 9, ".kiln_tb.SummaryMetadata"),
        ("simple_value", 2, "float", False, "value"), ("tensor", 8, ".kiln_tb.TensorProto", False, "value"),
    ],
    "Event": [
        ("wall_time", 1, "double"), ("step", 2, "int64"),
        ("file_version", 3, "string", False, "what"), ("graph_def", 4, "bytes", False, "what"),
        ("summary", 5, ".kiln_tb.Summary", False, "what"),
    ],
    "GraphDef": [("node", 1, ".kiln_tb.NodeDef", True), ("version", 3, "int32"), ("versions", 4, ".kiln_tb.VersionDef")],
    "VersionDef": [("producer", 1, "int32"), ("min_consumer", 2, "int32"), ("bad_consumers", 3, "int32", True)],
    "NodeDef": [
        ("name", 1, "string"), ("op", 2, "string"), ("input", 3, "string", True), ("device", 4, "string"),
        ("attr", 5, ".kiln_tb.NodeDef.AttrEntry", True),
    ],
    "NodeDef.AttrEntry": [("key", 1, "string"), ("value", 2, ".kiln_tb.AttrValue")],
    "AttrValue": [
        ("list", 1, ".kiln_tb.AttrValue.ListValue", False, "value"), ("s", 2, "bytes", False, "value"),
        ("i", 3, "int64", False, "value"), ("f", 4, "float", False, "value"), ("b", 5, "bool", False, "value"),
        ("type", 6, "enum", False, "value"), ("shape", 7, ".kiln_tb.TensorShapeProto", False, "value"),
        ("tensor", 8, ".kiln_tb.TensorProto", False, "value"),
    ],
    "AttrValue.ListValue": [
        ("s", 2, "bytes", True), ("i", 3, "int64", True), ("f", 4, "float", True), ("b", 5, "bool", True),
        ("type", 6, "enum", True), ("shape", 7, ".kiln_tb.TensorShapeProto", True),
    ],
    "HParamsPluginData": [
        ("version", 1, "int32"), ("experiment", 2, ".kiln_tb.Experiment", False, "data"),
        ("session_start_info", 3, ".kiln_tb.SessionStartInfo", False, "data"),
        ("session_end_info", 4, ".kiln_tb.SessionEndInfo", False, "data"),
    ],
    "Experiment": [
        ("description", 1, "string"), ("user", 2, "string"), ("time_created_secs", 3, "double"),
        ("hparam_infos", 4, ".kiln_tb.HParamInfo", True), ("metric_infos", 5, ".kiln_tb.MetricInfo", True), ("name", 6, "string"),
    ],
    "HParamInfo": [
        ("name", 1, "string"), ("display_name", 2, "string"), ("description", 3, "string"), ("type", 4, "enum"),
        ("domain_discrete", 5, ".google.protobuf.ListValue"), ("differs", 7, "bool"),
    ],
    "MetricName": [("group", 1, "string"), ("tag", 2, "string")],
    "MetricInfo": [("name", 1, ".kiln_tb.MetricName"), ("display_name", 3, "string"), ("description", 4, "string"), ("dataset_type", 5, "enum")],
    "SessionStartInfo": [
        ("hparams", 1, ".kiln_tb.SessionStartInfo.HparamsEntry", True), ("model_uri", 2, "string"),
        ("monitor_url", 3, "string"), ("group_name", 4, "string"), ("start_time_secs", 5, "double"),
    ],
    "SessionStartInfo.HparamsEntry": [("key", 1, "string"), ("value", 2, ".google.protobuf.Value")],
    "SessionEndInfo": [("status", 1, "enum"), ("end_time_secs", 2, "double")],
}
MAP_ENTRIES = {"NodeDef.AttrEntry", "SessionStartInfo.HparamsEntry"}
PACKED = {"float", "double", "int32", "int64", "bool", "enum"}


def build_pool():
    pool = descriptor_pool.DescriptorPool()
    pool.AddSerializedFile(descriptor_pb2.FileDescriptorProto.FromString(struct_pb2.DESCRIPTOR.serialized_pb).SerializeToString())
    fd = descriptor_pb2.FileDescriptorProto(name="kiln_tb.proto", package="kiln_tb", syntax="proto3", dependency=["google/protobuf/struct.proto"])
    made = {}
    for full in sorted(SCHEMA, key=lambda n: n.count(".")):
        parts = full.split(".")
        if len(parts) == 1:
            msg = fd.message_type.add(name=full)
        else:
            msg = made[parts[0]].nested_type.add(name=parts[1])
        made[full] = msg
        if full in MAP_ENTRIES:
            msg.options.map_entry = True
        oneofs = []
        for spec in SCHEMA[full]:
            name, number, kind = spec[:3]
            repeated = len(spec) > 3 and spec[3]
            oneof = spec[4] if len(spec) > 4 else None
            field = msg.field.add(name=name, number=number, label=REP if repeated else OPT, json_name=name)
            if kind.startswith("."):
                field.type, field.type_name = F.TYPE_MESSAGE, kind
            else:
                field.type = T[kind]
                if repeated and kind in PACKED:
                    field.options.packed = True
            if oneof:
                if oneof not in oneofs:
                    oneofs.append(oneof)
                    msg.oneof_decl.add(name=oneof)
                field.oneof_index = oneofs.index(oneof)
    pool.Add(fd)
    return pool


POOL = build_pool()
Event, Summary, TensorProto, GraphDef, HParamsPluginData = (
    _class(POOL, "kiln_tb." + n) for n in ("Event", "Summary", "TensorProto", "GraphDef", "HParamsPluginData"))


def crc32c(data):
    """CRC-32C, bit by bit (reflected polynomial 0x82F63B78)."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def masked(data):
    c = crc32c(data)
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def parse_strict(cls, data, what):
    """Parses and checks that every byte belongs to a known field."""
    msg = cls.FromString(data)
    probe = cls()
    probe.CopyFrom(msg)
    probe.DiscardUnknownFields()
    if probe.ByteSize() != len(data):
        raise ValueError("%s: %d bytes hold fields outside the schema (%d known)" % (what, len(data), probe.ByteSize()))
    return msg


def number(x):
    if isinstance(x, float) and not math.isfinite(x):
        return "NaN" if math.isnan(x) else ("Infinity" if x > 0 else "-Infinity")
    return x


DTYPES = {1: ("<f", 4), 2: ("<d", 8), 3: ("<i", 4), 4: ("<B", 1), 9: ("<q", 8), 10: ("<B", 1)}


def tensor_json(t):
    shape = [d.size for d in t.tensor_shape.dim]
    out = {"dtype": t.dtype, "shape": shape}
    if t.tensor_content:
        fmt, width = DTYPES[t.dtype]
        n = len(t.tensor_content) // width
        if n * width != len(t.tensor_content):
            raise ValueError("tensor_content of %d bytes is not a whole number of dtype %d values" % (len(t.tensor_content), t.dtype))
        values = [v[0] for v in struct.iter_unpack(fmt, t.tensor_content)]
    else:
        values = list(t.float_val) + list(t.double_val) + list(t.int_val) + list(t.int64_val)
    expected = math.prod(shape) if shape else 1
    if t.dtype == 7:
        out["strings"] = [bytes(s) for s in t.string_val]
        if len(out["strings"]) != expected:
            raise ValueError("string tensor of shape %s holds %d strings" % (shape, len(out["strings"])))
    else:
        if len(values) != expected:
            raise ValueError("tensor of shape %s holds %d values" % (shape, len(values)))
        out["values"] = [number(v) for v in values]
    return out


def png_json(data):
    """Checks a PNG's signature and chunk CRCs, inflates IDAT and undoes the row filters."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    at, idat, header = 8, b"", None
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        body = data[at + 8:at + 8 + length]
        (crc,) = struct.unpack(">I", data[at + 8 + length:at + 12 + length])
        if zlib.crc32(kind + body) & 0xFFFFFFFF != crc:
            raise ValueError("PNG chunk %s has a bad CRC" % kind)
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        at += 12 + length
    width, height, depth, color = header[:4]
    channels = {0: 1, 2: 3, 6: 4}[color]
    if depth != 8:
        raise ValueError("PNG bit depth %d" % depth)
    raw, row, pixels, prev = zlib.decompress(idat), width * channels, [], [0] * (width * channels)
    for y in range(height):
        f = raw[y * (row + 1)]
        line = list(raw[y * (row + 1) + 1:(y + 1) * (row + 1)])
        for i in range(row):
            a = line[i - channels] if i >= channels else 0
            b, c = prev[i], (prev[i - channels] if i >= channels else 0)
            if f == 1: line[i] = (line[i] + a) & 255
            elif f == 2: line[i] = (line[i] + b) & 255
            elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        pixels.extend(line)
        prev = line
    return {"width": width, "height": height, "channels": channels, "pixels": pixels}


def value_json(v):
    out = {"tag": v.tag}
    if v.HasField("metadata"):
        m = v.metadata
        out["plugin"] = m.plugin_data.plugin_name
        out["data_class"] = m.data_class
        if m.summary_description:
            out["description"] = m.summary_description
        if m.plugin_data.plugin_name == "hparams":
            out["hparams"] = json_format.MessageToDict(parse_strict(HParamsPluginData, m.plugin_data.content, v.tag), preserving_proto_field_name=True)
        elif m.plugin_data.content:
            out["content_hex"] = m.plugin_data.content.hex()
    which = v.WhichOneof("value")
    if which == "simple_value":
        out["simple_value"] = number(v.simple_value)
    elif which == "tensor":
        t = tensor_json(v.tensor)
        plugin = out.get("plugin")
        if plugin == "images":
            s = t.pop("strings")
            t["width"], t["height"] = int(s[0]), int(s[1])
            t["images"] = [png_json(b) for b in s[2:]]
        elif t.get("strings") is not None:
            t["strings"] = [s.decode("utf-8") for s in t["strings"]]
        out["tensor"] = t
    return out


def attr_json(a):
    which = a.WhichOneof("value")
    if which == "s":
        return {"s": a.s.decode("utf-8")}
    if which == "shape":
        return {"shape": [d.size for d in a.shape.dim]}
    if which == "list":
        return {"list": {"shape": [[d.size for d in s.dim] for s in a.list.shape], "type": list(a.list.type)}}
    return {which: getattr(a, which)} if which else {}


def event_json(e):
    out = {"wall_time": e.wall_time, "step": e.step}
    which = e.WhichOneof("what")
    if which == "file_version":
        out["file_version"] = e.file_version
    elif which == "graph_def":
        g = parse_strict(GraphDef, e.graph_def, "graph_def")
        out["graph"] = {"producer": g.versions.producer, "nodes": [
            {"name": n.name, "op": n.op, "input": list(n.input), "attr": {k: attr_json(a) for k, a in n.attr.items()}} for n in g.node]}
    elif which == "summary":
        out["summary"] = [value_json(v) for v in e.summary.value]
    return out


def read_file(path):
    data = open(path, "rb").read()
    events, at = [], 0
    while at < len(data):
        if at + 12 > len(data):
            return {"events": events, "error": "truncated header at %d" % at}
        (length,) = struct.unpack("<Q", data[at:at + 8])
        (length_crc,) = struct.unpack("<I", data[at + 8:at + 12])
        if masked(data[at:at + 8]) != length_crc:
            return {"events": events, "error": "bad length CRC at %d" % at}
        body = data[at + 12:at + 12 + length]
        if len(body) < length or at + 16 + length > len(data):
            return {"events": events, "error": "truncated record at %d" % at}
        (data_crc,) = struct.unpack("<I", data[at + 12 + length:at + 16 + length])
        if masked(body) != data_crc:
            return {"events": events, "error": "bad data CRC at %d" % at}
        events.append(event_json(parse_strict(Event, body, "event at %d" % at)))
        at += 16 + length
    return {"events": events}


def main(paths):
    files = {}
    for root in paths:
        if os.path.isfile(root):
            files[root] = read_file(root)
            continue
        for folder, _, names in sorted(os.walk(root)):
            for name in sorted(names):
                if "tfevents" in name:
                    path = os.path.join(folder, name)
                    files[os.path.relpath(path, root)] = read_file(path)
    json.dump({"files": files}, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1:])
