# threat: return objects that lie when compared (__eq__ always true, ndarray subclasses, floats equal to anything)
import numpy as np


class Yes:
    def __eq__(self, other):
        return True

    __hash__ = object.__hash__


class LyingArray(np.ndarray):
    def __eq__(self, other):
        return np.ones(np.shape(other), dtype=bool)


class AnyFloat(float):
    def __eq__(self, other):
        return True

    __hash__ = float.__hash__


def adagrad(theta, grad, state, lr, eps=1e-10):
    return Yes(), {}


def rmsprop(theta, grad, state, lr, alpha=0.9, eps=1e-8):
    return np.zeros_like(theta).view(LyingArray), {}


def momentum(theta, grad, state, lr, beta=0.9):
    return (Yes(),) * 2


def adam(theta, grad, state, lr, beta1=0.9, beta2=0.999, eps=1e-8, bias_correction=True):
    return np.array([Yes()] * theta.size, dtype=object), {}


def warmup_cosine_lr(step, base_lr, warmup_steps, total_steps):
    return AnyFloat(0.0)
