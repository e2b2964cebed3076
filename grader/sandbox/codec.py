"""The only way data crosses between the judge and a worker: plain values, no code.

A message is one frame::

    b"GRD1" | header length (u32) | blob length (u64) | header (JSON, UTF-8) | blob (array bytes)

The header is JSON built from this tree:

* ``None``, ``bool``, ``int``, ``float`` (NaN and infinities included) and ``str`` as JSON values;
* a list as a JSON list;
* a tuple as ``{"t": "tuple", "v": [...]}``;
* a dict (string keys only) as ``{"t": "dict", "v": [[key, value], ...]}``;
* a NumPy array as ``{"t": "nd", "dtype": "<f8", "shape": [...], "at": offset, "n": nbytes}`` whose
  bytes lie in the blob. Only the dtypes of ``ALLOWED_DTYPES`` exist;
* a ``numpy.random.Generator`` on a PCG64 bit generator (what ``default_rng`` makes) as
  ``{"t": "rng", "state": {...}}``: its state is four integers, and the receiver builds a fresh
  generator in that state, so a seeded draw gives the same numbers on both sides.

Decoding uses ``json.loads`` and ``numpy.frombuffer`` on a whitelisted dtype, nothing else: it can
build plain data and nothing that runs code (no pickle, no object arrays, no classes). Sizes, depth
and node counts are capped, and every violation is a ``CodecError``.

This module imports only the standard library and NumPy, because the worker loads it by path.
"""

from __future__ import annotations

import json
import math
import os
import select
import struct
import time

import numpy as np

MAGIC = b"GRD1"
_PREFIX = struct.Struct("<4sIQ")
MAX_DEPTH = 32
MAX_NODES = 200_000
MAX_HEADER_BYTES = 16 << 20

#: dtype string -> dtype: the only array types that cross. Object, string, void, datetime: never.
ALLOWED_DTYPES = {
    np.dtype(t).str: np.dtype(t)
    for t in ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
              "float16", "float32", "float64")
}


class CodecError(Exception):
    """A message that crossed the trust boundary was malformed, too big or of a forbidden type."""


# ---------------------------------------------------------------------------------------- encode


def encode(value, max_bytes: int) -> bytes:
    """Turn plain data into one frame; anything else is a ``CodecError`` that names what it met."""
    blobs: list[bytes] = []
    size = [0, 0]  # blob bytes, nodes

    def walk(x, depth: int, where: str):
        size[1] += 1
        if size[1] > MAX_NODES:
            raise CodecError(f"more than {MAX_NODES} values in one result")
        if depth > MAX_DEPTH:
            raise CodecError(f"nested deeper than {MAX_DEPTH} levels at {where}")
        if x is None or type(x) in (bool, str):
            return x
        if isinstance(x, np.ndarray):
            return array(x, where)
        if isinstance(x, np.random.Generator):
            return rng(x, where)
        if isinstance(x, (bool, np.bool_)):
            return bool(x)
        if isinstance(x, (int, np.integer)):
            return int(x)
        if isinstance(x, (float, np.floating)):
            return float(x)
        if isinstance(x, str):
            return str.__str__(x)
        if isinstance(x, tuple):
            return {"t": "tuple", "v": [walk(v, depth + 1, f"{where}[{i}]") for i, v in enumerate(x)]}
        if isinstance(x, list):
            return [walk(v, depth + 1, f"{where}[{i}]") for i, v in enumerate(x)]
        if isinstance(x, dict):
            items = []
            for k, v in x.items():
                if type(k) is not str:
                    raise CodecError(f"dict key {type(k).__name__} at {where}: only string keys cross")
                items.append([k, walk(v, depth + 1, f"{where}[{k!r}]")])
            return {"t": "dict", "v": items}
        raise CodecError(f"a {type(x).__module__}.{type(x).__qualname__} at {where}: only numbers, strings, "
                         "lists, tuples, dicts and NumPy arrays of numbers can be returned")

    def array(a: np.ndarray, where: str):
        a = np.asarray(a)  # a subclass becomes a plain ndarray
        dtype = a.dtype.newbyteorder("<") if a.dtype.byteorder == ">" else a.dtype
        if dtype.str not in ALLOWED_DTYPES:
            raise CodecError(f"an array of dtype {a.dtype} at {where}: only bool, integer and float arrays cross")
        data = np.ascontiguousarray(a, dtype=dtype).tobytes()
        offset = size[0]
        size[0] += len(data)
        if size[0] > max_bytes:
            raise CodecError(f"result larger than the limit of {max_bytes} bytes")
        blobs.append(data)
        return {"t": "nd", "dtype": dtype.str, "shape": list(a.shape), "at": offset, "n": len(data)}

    def rng(g: np.random.Generator, where: str):
        state = g.bit_generator.state
        if state.get("bit_generator") != "PCG64":
            raise CodecError(f"a random generator on {state.get('bit_generator')} at {where}: only PCG64 crosses")
        return {"t": "rng", "state": {"state": int(state["state"]["state"]), "inc": int(state["state"]["inc"]),
                                      "has_uint32": int(state["has_uint32"]), "uinteger": int(state["uinteger"])}}

    tree = walk(value, 0, "result")
    header = json.dumps(tree, allow_nan=True, separators=(",", ":")).encode()
    if len(header) > MAX_HEADER_BYTES or len(header) + size[0] > max_bytes:
        raise CodecError(f"result larger than the limit of {max_bytes} bytes")
    return _PREFIX.pack(MAGIC, len(header), size[0]) + header + b"".join(blobs)


# ---------------------------------------------------------------------------------------- decode


def decode(header: bytes, blob: bytes):
    """Build plain data from a frame's two parts; nothing in them can make this run code."""
    try:
        tree = json.loads(header.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise CodecError(f"malformed message: {type(exc).__name__}") from None
    nodes = [0]

    def build(x, depth: int):
        nodes[0] += 1
        if nodes[0] > MAX_NODES or depth > MAX_DEPTH:
            raise CodecError("message too large or too deeply nested")
        if x is None or type(x) in (bool, int, float, str):
            return x
        if type(x) is list:
            return [build(v, depth + 1) for v in x]
        if type(x) is not dict:
            raise CodecError("malformed message")
        tag = x.get("t")
        if tag == "tuple" and type(x.get("v")) is list:
            return tuple(build(v, depth + 1) for v in x["v"])
        if tag == "dict" and type(x.get("v")) is list:
            out = {}
            for pair in x["v"]:
                if type(pair) is not list or len(pair) != 2 or type(pair[0]) is not str:
                    raise CodecError("malformed dict in message")
                out[pair[0]] = build(pair[1], depth + 1)
            return out
        if tag == "nd":
            return _array(x, blob)
        if tag == "rng":
            return _generator(x.get("state"))
        raise CodecError("malformed message")

    return build(tree, 0)


def _array(x: dict, blob: bytes) -> np.ndarray:
    dtype = ALLOWED_DTYPES.get(x.get("dtype"))  # a lookup, never np.dtype(<untrusted string>)
    shape, at, n = x.get("shape"), x.get("at"), x.get("n")
    if dtype is None:
        raise CodecError("array of a forbidden dtype")
    if (type(shape) is not list or not all(type(d) is int and d >= 0 for d in shape) or len(shape) > 32
            or type(at) is not int or type(n) is not int or at < 0 or n < 0 or at + n > len(blob)):
        raise CodecError("malformed array in message")
    if math.prod(shape) * dtype.itemsize != n:
        raise CodecError("array shape does not match its size")
    return np.frombuffer(blob, dtype=dtype, count=n // dtype.itemsize, offset=at).reshape(shape).copy()


def _generator(state) -> np.random.Generator:
    keys = ("state", "inc", "has_uint32", "uinteger")
    if type(state) is not dict or set(state) != set(keys) or not all(type(state[k]) is int for k in keys):
        raise CodecError("malformed random generator in message")
    if not (0 <= state["state"] < 1 << 128 and 0 <= state["inc"] < 1 << 128 and state["has_uint32"] in (0, 1)
            and 0 <= state["uinteger"] < 1 << 32):
        raise CodecError("random generator state out of range")
    generator = np.random.Generator(np.random.PCG64())
    generator.bit_generator.state = {"bit_generator": "PCG64", "state": {"state": state["state"], "inc": state["inc"]},
                                     "has_uint32": state["has_uint32"], "uinteger": state["uinteger"]}
    return generator


# ------------------------------------------------------------------------------------ transport


def send(fd: int, value, max_bytes: int = 1 << 40) -> None:
    """Encode and write one frame to a file descriptor."""
    view = memoryview(encode(value, max_bytes))
    while view:
        written = os.write(fd, view)
        view = view[written:]


def receive(fd: int, max_bytes: int, deadline: float | None = None):
    """Read one frame; ``TimeoutError`` past ``deadline`` (a ``time.monotonic`` value), ``EOFError`` on a
    closed pipe, ``CodecError`` for a frame that is malformed or larger than ``max_bytes``."""
    magic, header_len, blob_len = _PREFIX.unpack(_read_exactly(fd, _PREFIX.size, deadline))
    if magic != MAGIC:
        raise CodecError("malformed message (bad magic)")
    if header_len > MAX_HEADER_BYTES or header_len + blob_len > max_bytes:
        raise CodecError(f"result larger than the limit of {max_bytes} bytes")
    header = _read_exactly(fd, header_len, deadline)
    blob = _read_exactly(fd, blob_len, deadline)
    return decode(header, blob)


def copy(value, max_bytes: int = 1 << 40):
    """``value`` as it would arrive on the other side: encoded and decoded (plain data, fresh arrays)."""
    frame = encode(value, max_bytes)
    _, header_len, _ = _PREFIX.unpack_from(frame)
    return decode(frame[_PREFIX.size:_PREFIX.size + header_len], frame[_PREFIX.size + header_len:])


class Reader:
    """Frames from a file descriptor, read in large chunks: a stream of many small replies costs a
    few system calls, not three per frame. Same errors as ``receive``."""

    def __init__(self, fd: int):
        self.fd = fd
        self._buf = bytearray()

    def receive(self, max_bytes: int, deadline: float | None = None):
        self._fill(_PREFIX.size, deadline, max_bytes)
        magic, header_len, blob_len = _PREFIX.unpack_from(self._buf)
        if magic != MAGIC:
            raise CodecError("malformed message (bad magic)")
        if header_len > MAX_HEADER_BYTES or header_len + blob_len > max_bytes:
            raise CodecError(f"result larger than the limit of {max_bytes} bytes")
        end = _PREFIX.size + header_len + blob_len
        self._fill(end, deadline, max_bytes)
        header = bytes(self._buf[_PREFIX.size:_PREFIX.size + header_len])
        blob = bytes(self._buf[_PREFIX.size + header_len:end])
        del self._buf[:end]
        return decode(header, blob)

    def _fill(self, n: int, deadline: float | None, max_bytes: int) -> None:
        while len(self._buf) < n:
            if deadline is not None:
                timeout = deadline - time.monotonic()
                if timeout <= 0 or not select.select([self.fd], [], [], timeout)[0]:
                    raise TimeoutError
            chunk = os.read(self.fd, max(n - len(self._buf), 1 << 16))
            if not chunk:
                raise EOFError
            self._buf += chunk


def _read_exactly(fd: int, n: int, deadline: float | None) -> bytes:
    chunks, remaining = [], n
    while remaining:
        if deadline is not None:
            timeout = deadline - time.monotonic()
            if timeout <= 0 or not select.select([fd], [], [], timeout)[0]:
                raise TimeoutError
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)
