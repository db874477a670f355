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


def _drop_default_field(path, cfg):
    """Remove from a run's saved ``config.json`` a field that ``cfg`` holds at its default,
    as if the run had been recorded before the field existed."""
    import dataclasses
    import json

    name = next(f.name for f in dataclasses.fields(cfg) if f.name != "seed" and getattr(cfg, f.name) == f.default)
    with open(path) as fh:
        saved = json.load(fh)
    del saved[name]
    with open(path, "w") as fh:
        json.dump(saved, fh)


@pytest.fixture
def drop_default_field():
    """:func:`_drop_default_field` (a run folder recorded before a config field was added)."""
    return _drop_default_field


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
