"""Shared test configuration: a deterministic hypothesis profile without deadlines.

Property tests are derandomized (reproducible in CI) and have no per-example deadline,
because NumPy kernels vary in speed on shared 2-core machines.
"""
import os

import pytest

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


@pytest.fixture(scope="session")
def small_shapes3d_vae_path(tmp_path_factory):
    """A saved, untrained Shapes3D VAE with narrow convolutions (fast smoke runs with --vae)."""
    from refmem.neocortex import shapes3d_vae

    path = str(tmp_path_factory.mktemp("vae") / "small_shapes3d_vae.npz")
    shapes3d_vae(rng=0, widths=(8, 8, 16, 16)).save(path)
    return path


@pytest.fixture(scope="module")
def cache_env(tmp_path_factory):
    """Keep the renderer's and the VAE's on-disk caches inside the module's temporary folder."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("REFMEM_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        yield
