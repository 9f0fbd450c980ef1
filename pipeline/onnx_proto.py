"""The few ONNX protobuf messages diarization writes and reads, without the `onnx` package.

Field numbers are onnx.proto's. Writing builds the voice encoder's graph
(`pipeline.voice_encoder`) and silero's graph cut in two (`pipeline.speech_vad`); reading takes
silero's nodes and weights out of its checksummed model file. Importing `onnx` costs ~0.7 CPU-s
per process, more than diarizing a minute of audio.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

FLOAT, INT8, INT64 = 1, 3, 7  # TensorProto data types
_KINDS = {np.dtype(np.float32): FLOAT, np.dtype(np.int8): INT8, np.dtype(np.int64): INT64}


class ProtoError(Exception):
    """The bytes are not the protobuf message expected (truncated, or an unknown wire type)."""


# ------------------------------------------------------------------------------ writing


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field(number: int, value: int | str | bytes) -> bytes:
    """One field: an int as a varint (negatives as 64-bit two's complement), text or bytes
    length-delimited (a nested message is its bytes)."""
    if isinstance(value, int):
        return _varint(number << 3) + _varint(value % (1 << 64))
    data = value.encode() if isinstance(value, str) else value
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def node(op: str, inputs: Sequence[str], outputs: Sequence[str], domain: str = "",
         **ints: int | list[int]) -> bytes:
    """NodeProto: input 1, output 2, op_type 4, attribute 5 (name 1, i 3 / ints 8, type 20),
    domain 7 (e.g. "com.microsoft" for onnxruntime's own operators). An optional input left out
    is an empty name."""
    msg = b"".join(field(1, i) for i in inputs) + b"".join(field(2, o) for o in outputs) + field(4, op)
    if domain:
        msg += field(7, domain)
    for name, value in ints.items():
        if isinstance(value, list):
            attr = field(1, name) + b"".join(field(8, v) for v in value) + field(20, 7)  # INTS
        else:
            attr = field(1, name) + field(3, value) + field(20, 2)  # INT
        msg += field(5, attr)
    return msg


def tensor(name: str, array: np.ndarray) -> bytes:
    """TensorProto: dims 1, data_type 2, name 8, raw_data 9 (little-endian); float32, int8 or
    int64 (anything else is refused rather than written as another type)."""
    kind = _KINDS.get(array.dtype)
    if kind is None:
        raise ProtoError(f"cannot write a {array.dtype} tensor")
    data = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")).tobytes()
    return b"".join(field(1, d) for d in array.shape) + field(2, kind) + field(8, name) + field(9, data)


def value_info(name: str, dims: Sequence[int | str]) -> bytes:
    """ValueInfoProto of a float tensor: name 1, type 2 (tensor_type 1: elem_type 1, shape 2)."""
    shape = b"".join(field(1, field(1, d) if isinstance(d, int) else field(2, d)) for d in dims)
    return field(1, name) + field(2, field(1, field(1, FLOAT) + field(2, shape)))


def graph_bytes(name: str, nodes: Sequence[bytes], initializers: Sequence[bytes], inputs: Sequence[bytes],
                outputs: Sequence[bytes]) -> bytes:
    """GraphProto: node 1, name 2, initializer 5, input 11, output 12."""
    return (b"".join(field(1, n) for n in nodes) + field(2, name)
            + b"".join(field(5, t) for t in initializers)
            + b"".join(field(11, i) for i in inputs) + b"".join(field(12, o) for o in outputs))


def opset(version: int, domain: str = "") -> bytes:
    """OperatorSetIdProto: domain 1, version 2."""
    return (field(1, domain) if domain else b"") + field(2, version)


def model_bytes(graph: bytes, ir_version: int = 8, opsets: Sequence[bytes] = (field(2, 17),)) -> bytes:
    """ModelProto: ir_version 1, graph 7, opset_import 8 (default domain, opset 17 unless given;
    `opset` builds others)."""
    return field(1, ir_version) + field(7, graph) + b"".join(field(8, o) for o in opsets)


def ifgo_to_iofc(w: np.ndarray) -> np.ndarray:
    """torch orders an LSTM's gates input, forget, cell, output; ONNX input, output, forget, cell."""
    i, f, g, o = np.split(w, 4, axis=0)
    return np.concatenate([i, o, f, g], axis=0)


# ------------------------------------------------------------------------------ reading


def _read_varint(buf: bytes, i: int) -> tuple[int, int]:
    out = shift = 0
    while True:
        if i >= len(buf):
            raise ProtoError("truncated varint")
        byte = buf[i]
        i += 1
        out |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return out, i


def fields(buf: bytes) -> list[tuple[int, int | bytes]]:
    """A message's (field number, value) pairs in order: varints as ints, the rest as bytes."""
    i, out = 0, []
    while i < len(buf):
        key, i = _read_varint(buf, i)
        number, wire = key >> 3, key & 7
        value: int | bytes
        if wire == 0:
            value, i = _read_varint(buf, i)
        elif wire == 2:
            size, i = _read_varint(buf, i)
            value, i = buf[i:i + size], i + size
        elif wire in (1, 5):
            size = 8 if wire == 1 else 4
            value, i = buf[i:i + size], i + size
        else:
            raise ProtoError(f"wire type {wire}")
        if i > len(buf):
            raise ProtoError("truncated field")
        out.append((number, value))
    return out


def repeated(message: list[tuple[int, int | bytes]], number: int) -> list[bytes]:
    """Every length-delimited value of field `number` (strings, bytes, nested messages)."""
    return [v for n, v in message if n == number and isinstance(v, bytes)]


def scalar(message: list[tuple[int, int | bytes]], number: int) -> int | bytes:
    """The first value of field `number`."""
    for n, v in message:
        if n == number:
            return v
    raise ProtoError(f"no field {number}")


def tensor_array(message: list[tuple[int, int | bytes]]) -> np.ndarray:
    """A TensorProto's float32, int8 or int64 values (raw_data 9, or packed float_data 4 /
    int64_data 7), in its dims."""
    dims = [int(v) for n, v in message if n == 1 and isinstance(v, int)]
    kind = scalar(message, 2)
    raw = [v for n, v in message if n == 9 and isinstance(v, bytes)]
    if kind == FLOAT:
        data = raw or [v for n, v in message if n == 4 and isinstance(v, bytes)]
        values = np.frombuffer(b"".join(data), dtype="<f4")
    elif kind == INT8 and raw:
        values = np.frombuffer(b"".join(raw), dtype=np.int8)
    elif kind == INT64 and raw:
        values = np.frombuffer(b"".join(raw), dtype="<i8")
    elif kind == INT64:
        packed = b"".join(v for n, v in message if n == 7 and isinstance(v, bytes))
        ints, i = [], 0
        while i < len(packed):
            value, i = _read_varint(packed, i)
            ints.append(value - (1 << 64) if value >= 1 << 63 else value)
        values = np.array(ints, dtype=np.int64)
    else:
        raise ProtoError("only float32 / int8 (raw) / int64 tensors are read")
    return values.reshape(dims)
