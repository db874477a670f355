"""Whole-VAE gradient checks (float64, fixed eps) for the paper's three architectures,
and the fused/unfused Shapes3D decoder equivalence."""
import numpy as np
import pytest

from refmem.nn.gradcheck import random_direction_check
from refmem.neocortex import bow_vae, mnist_vae, shapes3d_vae


def _away_from_kinks(vae, rng):
    """Give biases and BN betas small random values: with Keras' zero init, zero input
    patches put (Leaky)ReLU inputs exactly on the kink, where one-sided analytic and
    central numerical derivatives legitimately differ."""
    for k, p in vae.params.items():
        if k.endswith(("bias", "beta")):
            p[...] = rng.normal(0.0, 0.1, p.shape)


def _check(vae, seed, n=2, h=1e-5, train=False, rng_layers=None, n_dirs=2):
    rng = np.random.default_rng(seed)
    _away_from_kinks(vae, rng)
    if vae.recon == "bce":
        x = (rng.uniform(size=(n,) + vae.input_shape) < 0.3).astype(np.float64)
    else:  # continuous targets: the L1 kink x_hat == x is never hit
        x = rng.uniform(0.05, 0.95, size=(n,) + vae.input_shape)
    eps = rng.standard_normal((n, vae.latent_dim))
    losses, grads = vae.loss_and_grads(x, eps=eps, rng=rng_layers, train=train)

    def loss_fn():
        return vae.loss(x, eps=eps, rng=rng_layers, train=train)["total"]

    assert loss_fn() == losses["total"]
    errs = [random_direction_check(loss_fn, vae.params, grads, rng=seed + i, h=h)["rel_error"]
            for i in range(n_dirs)]
    return max(errs)


def test_gradcheck_shapes3d_full_size():
    # The paper's architecture at 64x64 in float64. Two error floors meet here: round-off
    # ~ 1e-16 L / (h D) (L ~ 1e3 is a sum over 4,096 pixels while a random unit direction
    # over 1.2M parameters has D ~ 1e-2..1) and LeakyReLU kink crossings (~60k units in
    # conv1 alone), whose error grows with h. One image and h = 1e-6 keep both < 1e-6;
    # the reduced-width variants below have a wide margin.
    assert _check(shapes3d_vae(rng=0, dtype=np.float64), seed=1, n=1, h=1e-6) < 1e-6


@pytest.mark.parametrize("fused", [True, False])
def test_gradcheck_shapes3d_reduced_width(fused):
    vae = shapes3d_vae(rng=3, dtype=np.float64, widths=(3, 4, 5, 6), fused_upsample=fused)
    assert _check(vae, seed=4, n=3) < 1e-6


def test_gradcheck_shapes3d_batch_mode_train():
    # intended variant: batch statistics in BN and real (seeded) dropout
    vae = shapes3d_vae(rng=5, dtype=np.float64, widths=(3, 4, 5, 6), bn_mode="batch")
    assert _check(vae, seed=6, n=3, train=True, rng_layers=7) < 1e-6


def test_gradcheck_mnist():
    assert _check(mnist_vae(rng=0, dtype=np.float64), seed=2, n=3) < 1e-6


def test_gradcheck_bow():
    assert _check(bow_vae(60, latent_dim=8, rng=0, dtype=np.float64), seed=3, n=4, h=1e-6) < 1e-6


def test_gradcheck_bow_batch_mode_dropout():
    vae = bow_vae(40, latent_dim=5, rng=1, dtype=np.float64, dropout_mode="batch")
    assert _check(vae, seed=4, n=4, h=1e-6, train=True, rng_layers=11) < 1e-6


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-10), (np.float32, 2e-4)])
def test_fused_and_unfused_decoders_agree(dtype, tol):
    fused = shapes3d_vae(rng=8, dtype=dtype, fused_upsample=True)
    plain = shapes3d_vae(rng=8, dtype=dtype, fused_upsample=False)
    assert list(fused.params) == list(plain.params)
    for k in fused.params:  # same names, same initial values (same rng draws)
        np.testing.assert_array_equal(fused.params[k], plain.params[k])
    rng = np.random.default_rng(9)
    for k, p in fused.params.items():  # non-trivial biases so every path matters
        if k.endswith(("bias", "beta")):
            p[...] = rng.normal(0, 0.1, p.shape)
            plain.params[k][...] = p
    x = rng.uniform(0.05, 0.95, size=(2, 64, 64, 3)).astype(dtype)
    eps = rng.standard_normal((2, 20)).astype(dtype)
    np.testing.assert_allclose(fused.reconstruct(x), plain.reconstruct(x), rtol=tol, atol=tol)
    lf, gf = fused.loss_and_grads(x, eps=eps)
    lp, gp = plain.loss_and_grads(x, eps=eps)
    assert lf["total"] == pytest.approx(lp["total"], rel=tol)
    for k in gf:
        scale = max(np.abs(gp[k]).max(), 1e-3)
        assert np.abs(gf[k] - gp[k]).max() / scale < 50 * tol, k
