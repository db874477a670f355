"""Tests of refmem.nn.losses: values, gradients (float64 central differences), KL, sampling."""
import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra.numpy import arrays

from refmem.nn.losses import (BCE_EPSILON, bce_mean, kl_normal, mse, recon_l1_channel_mean,
                           reparameterize)


def _numgrad(f, x, h=1e-6):
    """Central-difference gradient of a scalar function of one array."""
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        fp = f(x)
        x[i] = old - h
        fm = f(x)
        x[i] = old
        g[i] = (fp - fm) / (2 * h)
    return g


def _rel(a, b):
    """Max relative error with a 1e-3 floor on the scale (central differences with
    h = 1e-6 carry ~1e-10 absolute round-off, so tiny gradients are compared absolutely)."""
    return np.max(np.abs(a - b) / np.maximum(1e-3, np.abs(a) + np.abs(b)))


shapes = st.sampled_from([(2, 3, 3, 3), (3, 2, 4, 1), (4, 5), (1, 2, 2, 2)])


@given(shape=shapes, seed=st.integers(0, 2**31 - 1))
def test_l1_value_and_gradient(shape, seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(size=shape)
    x_hat = np.clip(x + rng.choice([-1, 1], size=shape) * rng.uniform(0.01, 0.5, size=shape), 0, 1)
    x_hat[np.abs(x_hat - x) < 1e-3] += 0.01  # stay away from the kink
    loss, d = recon_l1_channel_mean(x, x_hat)
    c = shape[-1] if len(shape) == 4 else 1
    # docs/paper-experiments.md, 1.5: per image, sum over pixels of the channel mean, then batch mean
    per_image = np.abs(x - x_hat).reshape(shape[0], -1, c).mean(axis=2).sum(axis=1)
    assert loss == pytest.approx(per_image.mean(), rel=1e-12)
    num = _numgrad(lambda a: recon_l1_channel_mean(x, a)[0], x_hat.copy())
    assert _rel(d, num) < 1e-6


def test_l1_worked_example():
    # one 1x2 image, 3 channels: |errors| (0.3, 0, 0.3) and (0, 0, 0.6): channel means 0.2, 0.2
    x = np.zeros((1, 1, 2, 3))
    x_hat = np.array([[[[0.3, 0.0, 0.3], [0.0, 0.0, 0.6]]]])
    loss, d = recon_l1_channel_mean(x, x_hat)
    assert loss == pytest.approx(0.4)  # 0.2 + 0.2 summed over the two pixels
    assert d[0, 0, 0, 1] == 0.0  # subgradient 0 at equality
    assert d[0, 0, 0, 0] == pytest.approx(1 / 3)


@given(seed=st.integers(0, 2**31 - 1))
def test_bce_value_and_gradient(seed):
    rng = np.random.default_rng(seed)
    x = (rng.uniform(size=(3, 7)) < 0.3).astype(float)
    x_hat = rng.uniform(0.05, 0.95, size=(3, 7))
    loss, d = bce_mean(x, x_hat)
    # keras.backend.binary_crossentropy (probability form): eps added inside the logs
    ref = -np.mean(x * np.log(x_hat + 1e-7) + (1 - x) * np.log(1 - x_hat + 1e-7))
    assert loss == pytest.approx(ref, rel=1e-12)
    num = _numgrad(lambda a: bce_mean(x, a)[0], x_hat.copy())
    assert _rel(d, num) < 1e-6


def test_bce_clipping_like_keras():
    x = np.array([[1.0, 0.0, 1.0]])
    x_hat = np.array([[0.0, 1.0, 0.5]])
    loss, d = bce_mean(x, x_hat)
    # clip to [eps, 1 - eps], then log(p + eps): log(2 eps) for both saturated entries
    expect = -(np.log(2 * BCE_EPSILON) + np.log(1 - (1 - BCE_EPSILON) + BCE_EPSILON)
               + np.log(0.5 + BCE_EPSILON)) / 3
    assert np.isfinite(loss) and loss == pytest.approx(expect, rel=1e-9)
    assert loss == pytest.approx(-(2 * np.log(2e-7) + np.log(0.5)) / 3, rel=1e-6)
    assert d[0, 0] == 0.0 and d[0, 1] == 0.0  # zero gradient where clipped
    assert d[0, 2] == pytest.approx(-1 / (0.5 + BCE_EPSILON) / 3, rel=1e-12)


def test_mse_gradient():
    rng = np.random.default_rng(0)
    x, x_hat = rng.uniform(size=(2, 4, 4, 1)), rng.uniform(size=(2, 4, 4, 1))
    loss, d = mse(x, x_hat)
    assert loss == pytest.approx(np.mean((x - x_hat) ** 2))
    assert _rel(d, _numgrad(lambda a: mse(x, a)[0], x_hat.copy())) < 1e-7


@pytest.mark.parametrize("fn", [recon_l1_channel_mean, bce_mean, mse])
def test_losses_preserve_float32(fn):
    x = np.full((2, 3), 0.5, np.float32)
    loss, d = fn(x, np.full((2, 3), 0.25, np.float32))
    assert d.dtype == np.float32 and isinstance(loss, float)


@pytest.mark.parametrize("fn", [recon_l1_channel_mean, bce_mean, mse])
def test_losses_bad_input(fn):
    with pytest.raises(ValueError, match=r"shape \(2, 3\)"):
        fn(np.zeros((2, 4)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="NaN"):
        fn(np.zeros((2, 3)), np.full((2, 3), np.nan))
    with pytest.raises(ValueError, match="batch axis"):
        fn(np.zeros(3), np.zeros(3))
    with pytest.raises(TypeError):
        fn(np.zeros((2, 3)), np.array([["a"] * 3] * 2, dtype=object))


@given(mu=arrays(np.float64, (3, 4), elements=st.floats(-3, 3)),
       lv=arrays(np.float64, (3, 4), elements=st.floats(-3, 3)),
       reduction=st.sampled_from(["sum", "mean"]))
def test_kl_gradient_and_nonnegative(mu, lv, reduction):
    kl, d_mu, d_lv = kl_normal(mu, lv, reduction)
    assert kl >= -1e-12
    assert _rel(d_mu, _numgrad(lambda a: kl_normal(a, lv, reduction)[0], mu.copy())) < 1e-6
    assert _rel(d_lv, _numgrad(lambda a: kl_normal(mu, a, reduction)[0], lv.copy())) < 1e-6


def test_kl_zero_at_prior_and_reductions():
    kl, d_mu, d_lv = kl_normal(np.zeros((2, 3)), np.zeros((2, 3)))
    assert kl == 0.0 and not d_mu.any() and not d_lv.any()
    mu = np.ones((2, 3))
    assert kl_normal(mu, np.zeros((2, 3)), "sum")[0] == pytest.approx(1.5)  # 1/2 * 3 latents
    assert kl_normal(mu, np.zeros((2, 3)), "mean")[0] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="reduction"):
        kl_normal(mu, mu, "batchmean")


def test_kl_matches_monte_carlo():
    rng = np.random.default_rng(1)
    mu = np.array([[0.5, -1.0, 0.2]])
    lv = np.array([[-0.5, 0.3, 1.0]])
    z, _ = reparameterize(np.repeat(mu, 200_000, 0), np.repeat(lv, 200_000, 0), rng=rng)
    # KL = E_q[log q(z) - log p(z)]
    log_q = -0.5 * (np.log(2 * np.pi) + lv + (z - mu) ** 2 / np.exp(lv))
    log_p = -0.5 * (np.log(2 * np.pi) + z ** 2)
    mc = np.mean(np.sum(log_q - log_p, axis=1))
    assert mc == pytest.approx(kl_normal(mu, lv)[0], abs=0.02)


def test_reparameterize_variance_is_exp_log_var():
    # the numpy-ml bug: scaling eps by the variance instead of the standard deviation
    rng = np.random.default_rng(2)
    n = 100_000
    mu = np.tile([[1.0, -2.0]], (n, 1))
    lv = np.tile([[np.log(4.0), np.log(0.25)]], (n, 1))
    z, eps = reparameterize(mu, lv, rng=rng)
    np.testing.assert_allclose(z.var(axis=0), [4.0, 0.25], rtol=0.02)
    np.testing.assert_allclose(z.mean(axis=0), [1.0, -2.0], atol=0.02)
    z2, eps2 = reparameterize(mu, lv, eps=eps)
    np.testing.assert_array_equal(z, z2)
    np.testing.assert_array_equal(eps, eps2)


def test_reparameterize_dtype_and_rng_determinism():
    mu = np.zeros((2, 3), np.float32)
    z1, e1 = reparameterize(mu, mu, rng=5)
    z2, _ = reparameterize(mu, mu, rng=np.random.default_rng(5))
    assert z1.dtype == np.float32 and e1.dtype == np.float32
    np.testing.assert_array_equal(z1, z2)
    with pytest.raises(ValueError, match=r"shape \(2, 3\)"):
        reparameterize(mu, mu, eps=np.zeros((3, 2)))


@pytest.mark.parametrize("fn", [kl_normal, reparameterize])
def test_gaussian_bad_input_names_expected_shape(fn):
    with pytest.raises(ValueError, match=r"mu must have shape \(\*, \*\)"):
        fn(np.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match=r"log_var must have shape \(2, 3\)"):
        fn(np.zeros((2, 3)), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="NaN or inf"):
        fn(np.zeros((2, 3)), np.full((2, 3), np.inf))
    with pytest.raises(TypeError):
        fn(np.zeros((2, 3), complex), np.zeros((2, 3)))
