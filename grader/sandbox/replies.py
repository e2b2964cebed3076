"""The worker's reply batching: many plain answers to one frame, flushed in time by a thread.

Loaded by path, like the worker's other helpers (the zygote's ``_load``), in the fork server before it forks
or in the worker: it imports only the standard library and NumPy, and is given the codec it writes with.
"""

from __future__ import annotations

import time


class Replies:
    """The worker's side of the reply pipe. ``send`` writes one frame; ``add`` queues a plain answer
    to go with others in one batch frame, which costs the two sides one encode and one decode instead
    of one per call: numbers, and small tuples of numbers and arrays (copied as they would cross), as
    ``{"id", "i": first call, "batch": [...], "seconds": [...]}``, the θs
    of optimizer steps under ``theta_only`` as ``{..., "stack": array whose row k is call i + k's θ}``.

    A batch goes out when it reaches its size (1, 2, 4, ... up to ``MAX_BATCH`` within a request, so the
    judge gets its first answers at once), before any other frame, at the end of each request, and from
    a flusher thread every ``INTERVAL`` seconds: a call that then hangs in Python code still lets the
    judge see every answer before it, as when each answer had its own frame. If the thread cannot start
    (the submission used up its processes), every answer goes out at once."""

    MAX_BATCH = 64
    MAX_BYTES = 1 << 16  # a θ larger than this goes in a frame of its own
    INTERVAL = 0.005

    def __init__(self, codec, fd: int, max_bytes: int):
        import threading

        import numpy

        self.codec, self.fd, self.max_bytes = codec, fd, max_bytes
        self.np, self.allowed = numpy, codec.NATIVE_DTYPES
        self.lock = threading.Lock()
        self.items: list = []
        self.head: tuple | None = None  # (request id, index of the first queued answer, stacked θs?)
        self.size = 1
        try:
            threading.Thread(target=self._flusher, name="grader-replies", daemon=True).start()
            self.batching = True
        except RuntimeError:
            self.batching = False

    def send(self, message: dict) -> bool:
        """Write ``message`` after whatever is queued; ``False`` if it could not be encoded (an error
        frame saying why went instead)."""
        with self.lock:
            self._flush()
            try:
                self.codec.send(self.fd, message, self.max_bytes)
                return True
            except self.codec.CodecError as exc:
                self.codec.send(self.fd, {"ok": False, "kind": "result", "error": str(exc), "id": message.get("id"),
                                          "i": message.get("i")})
                return False

    def add(self, call_id: int, i: int, value, seconds: float, step: bool) -> bool:
        """Queue the answer of call ``i``: a step's θ (``step``: an array of numbers, copied now), or
        else a float or an int (a NumPy scalar becomes one, as the codec would make it). ``False`` if
        it is not such a value; the caller then sends it in a frame of its own."""
        kind = type(value)
        if not step and kind is not float and kind is not int:  # what the codec would send for a NumPy scalar
            if isinstance(value, self.np.floating):
                value, kind = float(value), float
            elif isinstance(value, self.np.integer):
                value, kind = int(value), int
        stacked = step and kind is self.np.ndarray
        if not self.batching:
            return False
        if not (stacked and value.nbytes <= self.MAX_BYTES and value.dtype in self.allowed
                or not step and (kind is float or kind is int)):
            if step or not self._small(value):
                return False
            try:  # what would cross, now: the function may change the arrays it returned before the batch goes
                value = self.codec.copy(value, self.max_bytes)
            except self.codec.CodecError:
                return False  # sent alone, with the codec's error
        with self.lock:
            if self.head is not None and (self.head[0] != call_id or self.head[1] + len(self.items) != i
                                          or self.head[2] != stacked
                                          or stacked and self.items[0][0].shape != value.shape
                                          or stacked and self.items[0][0].dtype != value.dtype):
                self._flush()
            if self.head is None:
                self.head = (call_id, i, stacked)
            self.items.append((value.copy() if stacked else value, seconds))
            if len(self.items) >= self.size:
                self._flush()
                self.size = min(2 * self.size, self.MAX_BATCH)
        return True

    def _small(self, value) -> bool:
        """A tuple or list of a few numbers, ``None`` and small arrays of numbers (mixup's ``(x_mix, y_mix, lam,
        perm)`` on a tiny batch): it goes in a batch too, as the plain data it would cross as."""
        if type(value) is not tuple and type(value) is not list or len(value) > 8:
            return False
        size = 0
        for x in value:
            kind = type(x)
            if kind is self.np.ndarray:
                if x.dtype not in self.allowed:
                    return False
                size += x.nbytes
            elif not (kind is float or kind is int or x is None or isinstance(x, (self.np.floating, self.np.integer))):
                return False
        return size <= self.MAX_BYTES

    def flush(self) -> None:
        """Send what is queued; the next request's batches start small again."""
        with self.lock:
            self._flush()
            self.size = 1

    def _flush(self) -> None:  # the lock is held
        if not self.items:
            return
        (call_id, first, stacked), items = self.head, self.items
        self.head, self.items = None, []
        message = {"ok": True, "id": call_id, "i": first, "seconds": [s for _, s in items], "forbidden": []}
        if stacked:
            message["stack"] = self.np.stack([v for v, _ in items])
        else:
            message["batch"] = [v for v, _ in items]
        self.codec.send(self.fd, message, self.max_bytes)

    def _flusher(self) -> None:
        while True:
            time.sleep(self.INTERVAL)
            with self.lock:
                self._flush()
