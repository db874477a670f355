"""Shared test configuration: a deterministic hypothesis profile without deadlines.

Property tests are derandomized (reproducible in CI) and have no per-example deadline,
because NumPy kernels vary in speed on shared 2-core machines.
"""
import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "refmem",
    deadline=None,
    derandomize=True,
    max_examples=int(os.environ.get("REFMEM_HYPOTHESIS_EXAMPLES", "30")),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
settings.load_profile("refmem")
