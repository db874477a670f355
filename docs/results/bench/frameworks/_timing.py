"""Shared by step_torch.py and step_tf.py: time a training step, then one 2048^3 float32 matmul."""
import json
import time

import numpy as np


def report(step, steps: int, impl: str, batch: int = 32, warmup: int = 3, **extra) -> None:
    """Print one JSON line: median images/s of ``step`` and the matmul GFLOP/s of this process."""
    for _ in range(warmup):
        step()
    t = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        t.append(time.perf_counter() - t0)
    a = np.random.default_rng(0).standard_normal((2048, 2048)).astype(np.float32)
    a @ a
    t0 = time.perf_counter()
    a @ a
    mm = time.perf_counter() - t0
    print(json.dumps({"impl": impl, "img_s": batch / float(np.median(t)), "matmul_gflops": 2 * 2048 ** 3 / mm / 1e9,
                      **extra}))
