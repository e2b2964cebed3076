"""Random draws a check repeats: a student's function gets a generator, and the check needs the very
numbers it drew, or those of a known mistake, from the same state."""

from __future__ import annotations

import numpy as np


def clone_generator(gen: np.random.Generator) -> np.random.Generator:
    """A generator in the same state as ``gen``, of the same kind (drawing from it leaves ``gen`` alone)."""
    copy = np.random.Generator(type(gen.bit_generator)())
    copy.bit_generator.state = gen.bit_generator.state
    return copy
