"""The trust boundary: the codec, the worker process and the judge's handle on it."""
