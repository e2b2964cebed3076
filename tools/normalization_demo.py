"""How the settings of normalization's demonstration (hidden check ``normalization_trains_faster``) were
verified: the check's own code, with the reference's batch normalization, over many data sets.

    python tools/normalization_demo.py [seeds]

For each seed, a data set and a Kaiming init are drawn as the check draws a secret one (and the
lecture's public one once); the network is trained with the reference's normalization, and without
normalization at every learning rate of ``demo_plain_lrs``. Prints the range of the final losses and
the margins to ``max_final_mse``.
"""

from __future__ import annotations

import importlib.util
import sys
import time
import tomllib
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout's grader.testing, which the checks import
CHECKS = ROOT / "assignments" / "normalization" / "checks"


def load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Spec:
    def __init__(self):
        self.parameters = tomllib.loads((CHECKS.parent / "assignment.toml").read_text())["parameters"]

    def parameter(self, name):
        return self.parameters[name]


def main(seeds: int) -> None:
    hidden = load(CHECKS / "test_hidden.py", "normalization_hidden")
    reference = load(ROOT / "reference" / "normalization.py", "normalization_reference")
    spec = Spec()
    steps, lr = int(spec.parameter("demo_steps")), float(spec.parameter("demo_lr"))
    threshold = float(spec.parameter("max_final_mse"))

    def forward(calls):
        return [reference.batchnorm_forward(*args, **kwargs) for args, kwargs in calls]

    def backward(calls):
        return [reference.batchnorm_backward(*args, **kwargs) for args, kwargs in calls]

    settings = hidden.demo_settings(spec)
    problems = [hidden.demo_problem(np.random.default_rng(hidden.DEMO_PUBLIC_SEED), **settings)]
    problems += [hidden.demo_problem(np.random.default_rng(seed), **settings) for seed in range(seeds)]
    start = time.perf_counter()
    with np.errstate(all="ignore"):
        normalized = hidden.train(problems, steps, lr, forward, backward, normalize=True)[:, -1]
        seconds = (time.perf_counter() - start) / len(problems)
        plain = hidden.plain_losses(problems, spec)[:, -1]
        same_lr = hidden.train(problems, steps, lr, None, None, normalize=False)[:, -1]
    print(f"{len(problems)} data sets (the public one and seeds 0..{seeds - 1}), {steps} steps at lr {lr:g}; "
          f"{seconds * 1e3:.1f} ms of training per network with the reference in-process")
    print(f"public data set: with normalization {normalized[0]:.4g}, without (best lr) {plain[0]:.4g}")
    print(f"with normalization:    final MSE from {normalized.min():.4g} to {normalized.max():.4g} "
          f"(median {np.median(normalized):.4g})")
    print(f"without, at the best of {hidden.plain_lrs(spec)}: from {plain.min():.4g} to {plain.max():.4g} "
          f"(median {np.median(plain):.4g})")
    print(f"without, at lr {lr:g}: {np.isfinite(same_lr).sum()} of {len(problems)} finite")
    print(f"threshold {threshold:g}: {threshold / normalized.max():.2f} times above the worst normalized run, "
          f"{plain.min() / threshold:.2f} times below the best unnormalized one; worst ratio of the two runs of "
          f"one data set {np.min(plain / normalized):.1f}")
    failures = int(np.sum(normalized > threshold) + np.sum(plain <= threshold))
    print(f"{failures} data sets on the wrong side of the threshold")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
