"""Trace construction and the hybrid-recall combination rule of the extended model
(refmem.systems.extended, docs/extended.md Eqs. 2-5 and 9), without a VAE or Hopfield net.
"""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from refmem.experiments.extended import (ExtendedConfig, channel_count, combine, make_traces, prediction_error,
                             sensory_mask, sensory_part, split_traces, square_region_mask, sse,
                             validate_config)
from refmem.experiments.extended.config import CONFIGS
from refmem.experiments.extended.sweep import SweepResult, monotonicity


def _images(rng, n=2, h=4, w=5, c=3, dtype=np.float64):
    return rng.random((n, h, w, c)).astype(dtype)


def test_worked_example_one_pixel_row():
    # one image, 1 x 2 pixels, 3 channels
    x = np.array([[[[0.9, 0.9, 0.9], [0.2, 0.4, 0.6]]]])
    x_hat = np.array([[[[0.5, 0.5, 0.5], [0.2, 0.4, 0.5]]]])
    # Eq. 2: e = mean_c |x - x_hat| = [0.4, 0.1/3]
    e = prediction_error(x, x_hat)
    np.testing.assert_allclose(e, [[[0.4, 0.1 / 3]]])
    # Eq. 3 at t = 0.1: only the first pixel is "sensory"
    m = sensory_mask(e, 0.1)
    assert m.tolist() == [[[True, False]]]
    # Eq. 4: s = 2x - 1 there (all channels), 0 elsewhere
    s = sensory_part(x, m)
    np.testing.assert_allclose(s, [[[[0.8, 0.8, 0.8], [0, 0, 0]]]])
    # Eq. 5: trace = [vec(s); mu]
    tr = make_traces(s, np.array([[1.5, -2.0]]))
    np.testing.assert_allclose(tr, [[0.8, 0.8, 0.8, 0, 0, 0, 1.5, -2.0]])
    s2, z2 = split_traces(tr, (1, 2, 3))
    np.testing.assert_array_equal(s2, s)
    np.testing.assert_array_equal(z2, [[1.5, -2.0]])
    # Eq. 9: s where |s| > 0.01, else 2v - 1; then (y + 1) / 2
    v = np.full_like(x, 0.25)
    out = combine(s, v)
    np.testing.assert_allclose(out, [[[[0.9, 0.9, 0.9], [0.25, 0.25, 0.25]]]])


def test_combine_tolerance_matches_paper_isclose():
    # the paper uses not np.isclose(s, 0, atol=1e-2): |s| > 0.01 keeps s
    s = np.array([0.0, 0.009, -0.01, 0.0101, -0.5]).reshape(1, 1, 5, 1)
    v = np.full_like(s, 0.75)
    out = combine(s, v, tol=0.01)
    keep = ~np.isclose(s, 0, atol=1e-2)
    np.testing.assert_allclose(out, np.where(keep, (s + 1) / 2, 0.75))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_preserved(dtype):
    rng = np.random.default_rng(0)
    x, x_hat = _images(rng, dtype=dtype), _images(rng, dtype=dtype)
    e = prediction_error(x, x_hat)
    s = sensory_part(x, sensory_mask(e, 0.2))
    tr = make_traces(s, rng.standard_normal((2, 3)).astype(dtype))
    assert e.dtype == s.dtype == tr.dtype == combine(s, x_hat).dtype == dtype


def test_bad_input_raises():
    # the trace functions trust their callers; the public entry points that validate
    # (systems.extended.encode, ExtendedModel) are tested in test_extended_recall.py
    rng = np.random.default_rng(1)
    x = _images(rng)
    with pytest.raises(ValueError, match="threshold"):
        channel_count(x, x, -1.0)
    with pytest.raises(ValueError):
        validate_config(ExtendedConfig(thresholds=(0.1, -0.2)))
    with pytest.raises(ValueError):
        validate_config(ExtendedConfig(n_items=0))
    with pytest.raises(ValueError):
        validate_config(ExtendedConfig(thresholds=()))


def test_configs_valid_and_paper_values():
    for cfg in CONFIGS.values():
        validate_config(cfg)
    p = CONFIGS["paper"]
    assert p.n_items == 100 and p.beta == 100.0 and p.normalize and p.max_iter == 5
    assert p.thresholds == (0.01, 0.05, 0.10, 0.15, 0.20) and p.cue_fraction == 0.1
    assert p.figure_thresholds == (0.03, 0.15)


def test_square_region_mask_paper_squares():
    m = square_region_mask(64)
    # three 8x8 squares at (col, row) = (3, 26), (11, 41), (7, 43); the last two overlap
    expect = np.zeros((64, 64), bool)
    for col, row in ((3, 26), (11, 41), (7, 43)):
        expect[row:row + 8, col:col + 8] = True
    np.testing.assert_array_equal(m, expect)
    assert 128 < m.sum() < 192


def test_sse_regions_add_up():
    rng = np.random.default_rng(2)
    x, y = _images(rng, h=8, w=8), _images(rng, h=8, w=8)
    region = np.zeros((8, 8), bool)
    region[2:5, 1:4] = True
    np.testing.assert_allclose(sse(x, y, region) + sse(x, y, ~region), sse(x, y))
    np.testing.assert_allclose(sse(x, y), ((x - y) ** 2).sum(axis=(1, 2, 3)))


# ---------------------------------------------------------------- monotonicity, exact case
thresholds_st = st.lists(st.floats(0.0, 0.6, allow_nan=False), min_size=2, max_size=6)


@given(seed=st.integers(0, 2 ** 31 - 1), ts=thresholds_st, c=st.sampled_from([1, 3]))
def test_stored_units_and_count_never_increase(seed, ts, c):
    """Unconditional: masks are nested ({e > t2} within {e > t1} for t1 <= t2), so the
    non-zero sensory elements (Eq. 4) and the paper's per-channel count (Eq. 11) never
    increase with the threshold, whatever the images and the VAE's predictions."""
    rng = np.random.default_rng(seed)
    x, x_hat = _images(rng, n=3, c=c), _images(rng, n=3, c=c)
    x[0, 0, 0] = 0.5  # an element whose stored value 2x - 1 is exactly 0
    ts = sorted(ts)
    e = prediction_error(x, x_hat)
    stored = [np.count_nonzero(sensory_part(x, sensory_mask(e, t)).reshape(3, -1), axis=1) for t in ts]
    counts = [channel_count(x, x_hat, t) for t in ts]
    for a, b in zip(stored[:-1], stored[1:]):
        assert np.all(b <= a)
    for a, b in zip(counts[:-1], counts[1:]):
        assert np.all(b <= a)


@given(seed=st.integers(0, 2 ** 31 - 1), ts=thresholds_st, tol=st.sampled_from([0.0, 0.01, 0.2]))
def test_error_never_decreases_given_exact_retrieval(seed, ts, tol):
    """Conditions: retrieval returns the cued item's own stored trace exactly (winner ==
    item, attention weight 1), so s_hat = s(t) and z_hat = mu, v = g(mu) = x_hat. Then the
    recall y(t) is x on E(t) = {elements of masked pixels with |2x - 1| > tol} and x_hat
    elsewhere; E(t2) is a subset of E(t1) for t1 <= t2, hence
    SSE(t2) - SSE(t1) = sum over E(t1) minus E(t2) of (x - x_hat)^2 >= 0. Here the exact
    retrieval is imposed by construction; test_extended_recall.py checks the full pipeline."""
    rng = np.random.default_rng(seed)
    x = np.round(_images(rng, n=3, h=6, w=6) * 255) / 255  # 8-bit levels, as the stimuli
    x_hat = _images(rng, n=3, h=6, w=6)
    ts = sorted(ts)
    e = prediction_error(x, x_hat)
    errs = [sse(x, combine(sensory_part(x, sensory_mask(e, t)), x_hat, tol)) for t in ts]
    for a, b in zip(errs[:-1], errs[1:]):
        assert np.all(b >= a - 1e-12)
    # at t above every error nothing is stored: the recall is the VAE's x_hat
    top = combine(sensory_part(x, sensory_mask(e, 1.0)), x_hat, tol)
    np.testing.assert_allclose(top, x_hat)


def _fake_sweep(sse_rows, stored_rows, correct=None, weight=None):
    sse_rows = np.asarray(sse_rows, float)
    T, n = sse_rows.shape
    z = np.zeros(n)
    return SweepResult(thresholds=np.linspace(0.01, 0.2, T), sse=sse_rows, sse_in=sse_rows, sse_out=sse_rows,
                       count=np.asarray(stored_rows), stored=np.asarray(stored_rows),
                       correct=np.ones((T, n), bool) if correct is None else np.asarray(correct),
                       max_weight=np.ones((T, n)) if weight is None else np.asarray(weight),
                       vae_sse=z, vae_sse_in=z, vae_sse_out=z, vae_cue_sse=z, latent_dim=2, image_elements=12)


def test_monotonicity_counts_violations():
    sw = _fake_sweep([[1.0, 2.0], [3.0, 1.5], [4.0, 1.5]], [[5, 5], [3, 6], [1, 1]],
                     correct=[[1, 1], [1, 0], [1, 1]])
    m = monotonicity(sw)
    assert m["sse_violations"] == 1 and m["violating_items"] == [1]
    assert m["stored_violations"] == 1
    assert m["n_exact_items"] == 1 and m["sse_violations_exact"] == 0
