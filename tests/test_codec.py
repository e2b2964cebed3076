"""The codec is the trust boundary's gate: it must build plain data and nothing else."""

from __future__ import annotations

import json
import os
import pickle
import struct
import threading
import time

import numpy as np
import pytest

from grader.sandbox import codec
from grader.sandbox.codec import CodecError, decode, encode

LIMIT = 1 << 20


def roundtrip(value, limit=LIMIT):
    frame = encode(value, limit)
    _, header_len, _ = struct.unpack("<4sIQ", frame[:16])
    return decode(frame[16:16 + header_len], frame[16 + header_len:])


def test_plain_values_survive_the_round_trip():
    """Do numbers, strings, lists, tuples, dicts and numeric arrays come back equal and of the same types?"""
    value = {"theta": np.arange(6.0).reshape(2, 3), "t": 3, "ok": True, "none": None, "name": "adam",
             "pair": (np.array([1, 2], dtype=np.int32), [1.5, float("nan"), float("inf")]),
             "flags": np.array([True, False]), "empty": np.zeros((0, 4))}
    back = roundtrip(value)
    assert set(back) == set(value)
    np.testing.assert_array_equal(back["theta"], value["theta"])
    assert back["theta"].dtype == np.float64 and back["theta"].flags.writeable
    assert isinstance(back["pair"], tuple) and back["pair"][0].dtype == np.int32
    assert back["pair"][1][0] == 1.5 and np.isnan(back["pair"][1][1]) and back["pair"][1][2] == float("inf")
    assert back["t"] == 3 and type(back["t"]) is int and back["ok"] is True and back["none"] is None
    assert back["empty"].shape == (0, 4)


def test_numpy_scalars_and_subclasses_become_plain():
    """Do NumPy scalars and ndarray subclasses arrive as plain floats and plain arrays?"""

    class Lying(np.ndarray):
        def __eq__(self, other):
            return True

    lying = np.arange(3.0).view(Lying)
    back = roundtrip([np.float64(2.5), np.int64(7), np.bool_(True), lying])
    assert [type(v) for v in back[:3]] == [float, int, bool]
    assert type(back[3]) is np.ndarray
    assert not np.array_equal(back[3], np.zeros(3))


@pytest.mark.parametrize("value, words", [
    (np.array([object(), 1], dtype=object), "dtype object"),
    (np.array(["a", "b"]), "dtype <U1"),
    (object(), "builtins.object"),
    ({1: 2}, "dict key int"),
    ({1.5j}, "builtins.set"),
    (lambda: 0, "function"),
])
def test_unsupported_values_are_refused_with_a_message(value, words):
    """Does the encoder refuse objects, object arrays, sets and non-string keys, and say what it met?"""
    with pytest.raises(CodecError, match=words):
        encode({"value": value}, LIMIT)


def test_size_depth_and_count_limits():
    """Are huge arrays, deep nesting and very many values refused instead of exhausting the judge?"""
    with pytest.raises(CodecError, match="limit"):
        encode(np.zeros(LIMIT), LIMIT)
    deep = []
    for _ in range(codec.MAX_DEPTH + 5):
        deep = [deep]
    with pytest.raises(CodecError, match="deeper"):
        encode(deep, LIMIT)
    with pytest.raises(CodecError, match="more than"):
        encode([0] * (codec.MAX_NODES + 1), 1 << 30)


@pytest.mark.parametrize("header, blob", [
    (pickle.dumps({"a": 1}), b""),                                              # a pickle is not JSON
    (b'{"t": "nd", "dtype": "|O", "shape": [1], "at": 0, "n": 8}', b"\0" * 8),  # object dtype
    (b'{"t": "nd", "dtype": "<f8", "shape": [2], "at": 0, "n": 16}', b"\0" * 8),  # bytes missing
    (b'{"t": "nd", "dtype": "<f8", "shape": [3], "at": 0, "n": 16}', b"\0" * 16),  # shape lies
    (b'{"t": "nd", "dtype": "<f8", "shape": [-2], "at": 0, "n": 16}', b"\0" * 16),
    (b'{"t": "pickle", "v": "gASVAAAAAAAAAA=="}', b""),                        # an unknown tag
    (b'{"__reduce__": [1]}', b""),
    (b'{"t": "dict", "v": [[1, 2]]}', b""),                                    # a non-string key
    (b"[" * 100_000 + b"]" * 100_000, b""),                                    # nesting past recursion
    (b"\xff\xfe", b""),
])
def test_malformed_frames_are_codec_errors(header, blob):
    """Does every malformed or hostile frame end as a CodecError, never as a built object?"""
    with pytest.raises(CodecError):
        decode(header, blob)


def test_receive_enforces_the_limit_before_reading(tmp_path):
    """Does a frame that announces more bytes than allowed fail without being read?"""
    r, w = os.pipe()
    try:
        os.write(w, struct.pack("<4sIQ", codec.MAGIC, 10, 1 << 40))
        with pytest.raises(CodecError, match="limit"):
            codec.receive(r, LIMIT, deadline=None)
    finally:
        os.close(r)
        os.close(w)


def test_receive_times_out_and_sees_eof():
    """Does a silent peer time out at the deadline, and a closed one give EOFError?"""
    r, w = os.pipe()
    with pytest.raises(TimeoutError):
        codec.receive(r, LIMIT, deadline=time.monotonic() + 0.05)
    os.close(w)
    with pytest.raises(EOFError):
        codec.receive(r, LIMIT, deadline=time.monotonic() + 1)
    os.close(r)


def test_a_seeded_generator_crosses_and_draws_the_same_numbers():
    """Does a numpy Generator arrive in the same state, so the student's draws equal the judge's?"""
    g = np.random.default_rng(7)
    g.standard_normal(5)
    back = roundtrip({"rng": g})["rng"]
    assert isinstance(back, np.random.Generator) and back is not g
    np.testing.assert_array_equal(back.beta(0.4, 0.4, size=4), g.beta(0.4, 0.4, size=4))


@pytest.mark.parametrize("state", [
    {"state": -1, "inc": 1, "has_uint32": 0, "uinteger": 0},
    {"state": 1 << 130, "inc": 1, "has_uint32": 0, "uinteger": 0},
    {"state": 1, "inc": 1, "has_uint32": 0},
    {"state": "1", "inc": 1, "has_uint32": 0, "uinteger": 0},
    [1, 2, 3, 4],
])
def test_a_malformed_generator_state_is_refused(state):
    """Is a generator state out of range or of the wrong shape a CodecError?"""
    header = json.dumps({"t": "rng", "state": state}).encode()
    with pytest.raises(CodecError):
        decode(header, b"")


def _same(a, b) -> bool:
    """Equal values of exactly the same types, all the way down (arrays: dtype, shape, bytes, fresh)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes() and a.flags.c_contiguous
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, np.random.Generator):
        return a.bit_generator.state == b.bit_generator.state
    return a == b or (a != a and b != b)  # NaN


class Record(tuple):
    pass


@pytest.mark.parametrize("value", [
    {"theta": np.arange(6.0).reshape(2, 3).T, "t": 3, "ok": True, "none": None, "s": "é\udc80",
     "pair": (np.array([1, 2], dtype=">i4"), [1.5, float("nan"), -float("inf"), 10**40])},
    [np.float64(2.5), np.int64(7), np.bool_(True), np.float32(0.1), np.arange(3.0).view(np.matrix)],
    (np.zeros((0, 4)), np.array(3.0), np.zeros(5, dtype=np.float16)[::2], Record((1, 2))),
    np.random.default_rng(5),
    {"m": np.arange(4.0).reshape(2, 2)[:, ::-1], "t": 3, "lr": 0.1, "on": True, "none": None,
     "mask": np.array([True, False]), "k": np.arange(3, dtype=np.int16)},  # an optimizer's state: the quick path
    {"m": np.zeros(2), "b": np.arange(2.0).astype(">f8")},  # a byte order the quick path leaves to the walker
])
def test_copy_gives_what_a_round_trip_gives(value):
    """Is ``copy`` (the worker's carry between streamed calls, without a frame) the same as a real
    round trip through ``encode`` and ``decode``: same types, dtypes, shapes and bits?"""
    assert _same(codec.copy(value, LIMIT), roundtrip(value))


@pytest.mark.parametrize("value, words", [
    ({"a": [1, {"b": object()}]}, r"at result\['a'\]\[1\]\['b'\]"),
    ({"a": (np.array(["x"]),)}, r"dtype <U1 at result\['a'\]\[0\]"),
    ([{1: 2}], r"dict key int at result\[0\]"),
])
def test_copy_refuses_what_encode_refuses_and_says_where(value, words):
    for convert in (lambda v: codec.copy(v, LIMIT), lambda v: encode(v, LIMIT)):
        with pytest.raises(CodecError, match=words):
            convert(value)
    with pytest.raises(CodecError, match="limit"):
        codec.copy([np.zeros(100)], 100)


def test_a_reader_decodes_arrays_out_of_its_buffer_and_goes_on_after_a_malformed_frame():
    """Arrays are decoded out of the reader's buffer in place: each must own its memory (writable, unchanged
    by the next frame), and a malformed frame, whose error is kept by the caller, must not stop the reader
    from taking the next one (a view of the buffer held by the error's frames would)."""
    read, write = os.pipe()
    try:
        big = np.arange(40_000, dtype=np.float64).reshape(200, 200)
        header = json.dumps({"t": "nd", "dtype": "<f8", "shape": [2], "at": 0, "n": 64}).encode()  # n past the blob
        frames = [bytes(encode({"a": big, "b": [np.ones(3)]}, 1 << 40)),
                  struct.pack("<4sIQ", codec.MAGIC, len(header), 16) + header + bytes(16),
                  bytes(encode({"a": np.zeros((100, 100))}, 1 << 40))]
        writer = threading.Thread(target=lambda: [os.write(write, f) for f in frames])  # more than a pipe holds
        writer.start()
        reader = codec.Reader(read)
        first = reader.receive(1 << 40)
        with pytest.raises(CodecError) as kept:
            reader.receive(1 << 40)
        second = reader.receive(1 << 40)
        writer.join()
        assert kept.value is not None and second["a"].shape == (100, 100) and not second["a"].any()
        first["a"][0, 0] = -1.0  # its own memory, writable
        assert np.array_equal(first["a"].ravel()[1:], big.ravel()[1:]) and first["b"][0].tolist() == [1.0] * 3
    finally:
        os.close(read)
        os.close(write)
