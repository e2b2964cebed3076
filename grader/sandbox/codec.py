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


class _Refused(Exception):
    """A value the encoder cannot send; collects where it sits on its way up (free when nothing fails)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message, self.path = message, []

    def render(self) -> CodecError:
        return CodecError(self.message.replace("{where}", "result" + "".join(reversed(self.path))))


_SCALARS = (float, int, str, bool, type(None))
# The allowed dtypes as objects, in this machine's byte order: ``dtype in NATIVE_DTYPES`` is a hash
# lookup (``dtype.str in ALLOWED_DTYPES`` makes a string, six times slower); any other byte order is
# not in it, and takes the slow path that converts it.
NATIVE_DTYPES = frozenset(ALLOWED_DTYPES.values())


class _Walker:
    """Plain data out of a value, checked against the limits: the header's tree with array bytes set
    aside (``tree=True``, for ``encode``), or directly the value the other side would decode
    (``tree=False``, for ``copy``). Anything else is refused with where it sits."""

    def __init__(self, max_bytes: int, tree: bool):
        self.max_bytes, self.tree = max_bytes, tree
        self.blobs: list[np.ndarray] = []
        self.bytes = self.nodes = 0

    def walk(self, x, depth: int):
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise CodecError(f"more than {MAX_NODES} values in one result")
        if depth > MAX_DEPTH:
            raise _Refused(f"nested deeper than {MAX_DEPTH} levels at {{where}}")
        kind = type(x)
        if kind in _SCALARS:  # the common case first, by exact type
            return x
        if kind is tuple or kind is list:
            out, i = [], 0
            try:
                for i, v in enumerate(x):  # noqa: B007 (i names the element that failed)
                    out.append(self.walk(v, depth + 1))
            except _Refused as exc:
                exc.path.append(f"[{i}]")
                raise
            if kind is list:
                return out
            return {"t": "tuple", "v": out} if self.tree else tuple(out)
        if kind is dict:
            items, key = [], None
            try:
                for key, v in x.items():
                    if type(key) is not str:
                        raise _Refused(f"dict key {type(key).__name__} at {{where}}: only string keys cross")
                    items.append([key, self.walk(v, depth + 1)])
            except _Refused as exc:
                if type(key) is str:
                    exc.path.append(f"[{key!r}]")
                raise
            return {"t": "dict", "v": items} if self.tree else dict(items)
        return self.other(x, depth)

    def other(self, x, depth: int):
        """Subclasses and NumPy types: the slow path, by ``isinstance``."""
        if isinstance(x, np.ndarray):
            return self.array(x)
        if isinstance(x, np.random.Generator):
            return self.rng(x)
        if isinstance(x, (bool, np.bool_)):
            return bool(x)
        if isinstance(x, (int, np.integer)):
            return int(x)
        if isinstance(x, (float, np.floating)):
            return float(x)
        if isinstance(x, str):
            return str.__str__(x)
        if isinstance(x, (tuple, list)):
            return self.walk(tuple(x) if isinstance(x, tuple) else list(x), depth)
        if isinstance(x, dict):
            return self.walk(dict(x), depth)
        raise _Refused(f"a {type(x).__module__}.{type(x).__qualname__} at {{where}}: only numbers, strings, "
                       "lists, tuples, dicts and NumPy arrays of numbers can be returned")

    def array(self, a: np.ndarray):
        a = np.asarray(a)  # a subclass becomes a plain ndarray
        dtype = a.dtype.newbyteorder("<") if a.dtype.byteorder == ">" else a.dtype
        if dtype.str not in ALLOWED_DTYPES:
            raise _Refused(f"an array of dtype {a.dtype} at {{where}}: only bool, integer and float arrays cross")
        n = a.size * dtype.itemsize
        self.bytes += n
        if self.bytes > self.max_bytes:
            raise CodecError(f"result larger than the limit of {self.max_bytes} bytes")
        if not self.tree:
            return np.array(a, dtype=ALLOWED_DTYPES[dtype.str], order="C", copy=True)
        self.blobs.append(np.ascontiguousarray(a, dtype=dtype))  # copied into the frame by encode, once
        return {"t": "nd", "dtype": dtype.str, "shape": list(a.shape), "at": self.bytes - n, "n": n}

    def rng(self, g: np.random.Generator):
        state = g.bit_generator.state
        if state.get("bit_generator") != "PCG64":
            raise _Refused(f"a random generator on {state.get('bit_generator')} at {{where}}: only PCG64 crosses")
        plain = {"state": int(state["state"]["state"]), "inc": int(state["state"]["inc"]),
                 "has_uint32": int(state["has_uint32"]), "uinteger": int(state["uinteger"])}
        return {"t": "rng", "state": plain} if self.tree else _generator(plain)

    def run(self, value):
        try:
            return self.walk(value, 0)
        except _Refused as exc:
            raise exc.render() from None


_JSON = json.JSONEncoder(allow_nan=True, separators=(",", ":"))  # made once: json.dumps with options makes one per call


def encode(value, max_bytes: int) -> bytearray:
    """Turn plain data into one frame; anything else is a ``CodecError`` that names what it met. Each
    array's bytes are copied once, into the frame (a megabyte-sized result crosses often: conv's outputs)."""
    walker = _Walker(max_bytes, tree=True)
    tree = walker.run(value)
    header = _JSON.encode(tree).encode()
    if len(header) > MAX_HEADER_BYTES or len(header) + walker.bytes > max_bytes:
        raise CodecError(f"result larger than the limit of {max_bytes} bytes")
    start = _PREFIX.size + len(header)
    frame = bytearray(start + walker.bytes)
    _PREFIX.pack_into(frame, 0, MAGIC, len(header), walker.bytes)
    frame[_PREFIX.size:start] = header
    with memoryview(frame) as view:
        for a in walker.blobs:
            n = a.nbytes
            if n:
                view[start:start + n] = a.reshape(-1).view(np.uint8)
            start += n
    return frame


# ---------------------------------------------------------------------------------------- decode


_LEAVES = (float, int, str, bool, type(None))


def decode(header: bytes, blob: bytes):
    """Build plain data from a frame's two parts; nothing in them can make this run code."""
    try:
        tree = json.loads(header.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise CodecError(f"malformed message: {type(exc).__name__}") from None
    return _Builder(blob).build(tree, 0)


class _Builder:
    """``decode``'s walk of the header's tree (a class, not a closure that calls itself: that cycle would hold
    ``blob``, a view of a reader's buffer, until the collector ran, and the buffer could not be resized)."""

    def __init__(self, blob):
        self.blob, self.nodes = blob, 0

    def build(self, x, depth: int):
        self.nodes += 1
        if self.nodes > MAX_NODES or depth > MAX_DEPTH:
            raise CodecError("message too large or too deeply nested")
        kind = type(x)
        if kind in _LEAVES:
            return x
        if kind is list:
            return [self.build(v, depth + 1) for v in x]
        if kind is not dict:
            raise CodecError("malformed message")
        tag = x.get("t")
        if tag == "nd":
            return _array(x, self.blob)
        if tag == "tuple" and type(x.get("v")) is list:
            return tuple([self.build(v, depth + 1) for v in x["v"]])
        if tag == "dict" and type(x.get("v")) is list:
            out = {}
            for pair in x["v"]:
                if type(pair) is not list or len(pair) != 2 or type(pair[0]) is not str:
                    raise CodecError("malformed dict in message")
                out[pair[0]] = self.build(pair[1], depth + 1)
            return out
        if tag == "rng":
            return _generator(x.get("state"))
        raise CodecError("malformed message")


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


def loads(data: bytes, max_bytes: int):
    """The value of one whole frame held in ``data`` (``encode``'s output, kept in a file, say)."""
    if len(data) < _PREFIX.size:
        raise CodecError("malformed message (too short)")
    magic, header_len, blob_len = _PREFIX.unpack_from(data)
    if magic != MAGIC:
        raise CodecError("malformed message (bad magic)")
    if header_len > MAX_HEADER_BYTES or header_len + blob_len > max_bytes:
        raise CodecError(f"result larger than the limit of {max_bytes} bytes")
    if len(data) != _PREFIX.size + header_len + blob_len:
        raise CodecError("malformed message (wrong length)")
    return decode(data[_PREFIX.size:_PREFIX.size + header_len], data[_PREFIX.size + header_len:])


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
    """``value`` as it would arrive on the other side (plain data, fresh arrays), without the frame:
    the same checks and limits as ``encode`` but the header's size (``tests/test_codec.py`` compares
    it with ``decode(encode(value))``)."""
    if type(value) is dict:  # an optimizer's state, between two streamed calls: the common case, quickly
        out, size = {}, 0
        for key, v in value.items():
            kind = type(v)
            if type(key) is not str or len(out) >= 64:
                break
            if kind in _SCALARS:
                out[key] = v
            elif kind is np.ndarray and v.dtype in NATIVE_DTYPES:
                size += v.nbytes
                out[key] = v.copy(order="C")
            else:
                break
        else:
            if size <= max_bytes:
                return out
    return _Walker(max_bytes, tree=False).run(value)


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
        failure = None
        with memoryview(self._buf) as view:  # decoded in place: an array is copied once, out of the buffer
            try:
                value = decode(bytes(view[_PREFIX.size:_PREFIX.size + header_len]), view[_PREFIX.size + header_len:end])
            except BaseException as exc:  # noqa: BLE001 - re-raised below, once the buffer is free
                exc.__traceback__ = None  # its frames hold a view of the buffer, which is resized next
                failure = exc
        del self._buf[:end]
        if failure is not None:
            raise failure
        return value

    def pump(self, limit: int) -> bool:
        """Read what the descriptor has now into the buffer, without parsing it (``EOFError`` if it
        closed); ``False`` if the buffer holds more than ``limit`` bytes."""
        chunk = os.read(self.fd, 1 << 16)
        if not chunk:
            raise EOFError
        self._buf += chunk
        return len(self._buf) <= limit

    def _fill(self, n: int, deadline: float | None, max_bytes: int) -> None:
        have = len(self._buf)
        if have >= n:
            return
        room = max(n, have + (1 << 16))  # read into the buffer itself, not into a chunk then copied
        if have:
            self._buf.extend(bytes(room - have))
        else:
            self._buf = bytearray(room)
        try:
            while have < n:
                if deadline is not None:
                    timeout = deadline - time.monotonic()
                    if timeout <= 0 or not select.select([self.fd], [], [], timeout)[0]:
                        raise TimeoutError
                with memoryview(self._buf) as view:
                    got = os.readv(self.fd, [view[have:]])
                if not got:
                    raise EOFError
                have += got
        finally:
            del self._buf[have:]


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
