"""Finite input never gives a silent non-finite output: a stable result or a clear error."""
import json

import numpy as np
import pytest

from refmem import ModernHopfield, mnist_vae
from refmem._utils import save_json
from refmem.analysis.stats import sem
from refmem.nn.losses import kl_normal, reparameterize


def test_decode_rejects_latents_beyond_float32():
    vae = mnist_vae(rng=0)
    z = np.zeros((2, vae.latent_dim))
    z[0, 0] = 1e300
    with pytest.raises(ValueError, match="float32 range"):
        vae.decode(z)


@pytest.mark.parametrize("bs", [0, -1, 2.5, True, "8"])
def test_batch_size_validated(bs):
    vae = mnist_vae(rng=0)
    with pytest.raises(ValueError, match="batch_size"):
        vae.decode(np.zeros((3, vae.latent_dim)), batch_size=bs)


def test_huge_log_var_is_an_error_not_inf():
    mu = np.zeros((1, 2), np.float32)
    lv = np.full((1, 2), 100.0, np.float32)  # exp(100) overflows float32
    with pytest.raises(ValueError, match="log_var"):
        kl_normal(mu, lv)
    with pytest.raises(ValueError, match="log_var"):
        reparameterize(mu, lv, rng=0)
    kl, _, _ = kl_normal(mu.astype(np.float64), lv.astype(np.float64))  # fine in float64
    assert np.isfinite(kl)


def test_energy_at_tiny_beta_is_an_error():
    net = ModernHopfield(beta=1e-320, normalize=False)
    net.store(np.ones((3, 4)))
    with pytest.raises(FloatingPointError, match="beta"):
        net.energy(np.ones(4))


@pytest.mark.parametrize("axis", [2, -3, 1.0, True])
def test_sem_axis_validated(axis):
    with pytest.raises(ValueError, match="axis"):
        sem(np.ones((3, 4)), axis=axis)


def test_results_json_is_standard(tmp_path):
    p = tmp_path / "r.json"
    save_json(p, {"rho": float("nan"), "x": np.array([np.inf, 1.0])})
    text = p.read_text()
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text) == {"rho": None, "x": [None, 1.0]}
