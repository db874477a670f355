"""Unit tests of the consolidation pieces: config, replay helpers, triples, metrics."""
import dataclasses
import json

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from refmem.experiments.consolidation import CONFIGS, get_config
from refmem.experiments.consolidation.config import config_json, config_load, validate_config
from refmem.experiments.consolidation.imagination import mean_pairwise_mae
from refmem.analysis.metrics import per_image_error, recon_error
from refmem.analysis.decoding import decoding_accuracy, probe_split
from refmem.experiments.consolidation.relational import make_triples
from refmem.hippocampus.replay import from_pattern, replay_stats, to_pattern


# ----------------------------------------------------------------------------- config
@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_config_json_round_trip(name):
    cfg = CONFIGS[name]
    text = json.dumps(config_json(cfg))
    assert config_load(json.loads(text)) == cfg
    assert validate_config(cfg) is cfg


def test_paper_preset_matches_the_paper():
    p = CONFIGS["paper"]
    assert (p.n_memories, p.n_heldout, p.epochs, p.probe_train, p.probe_test) == (10000, 1500, 50, 200, 750)
    assert (p.beta, p.max_replay_iter, p.latent_dim, p.batch_size, p.lr, p.amsgrad, p.patience) == (
        20.0, 10, 20, 32, 1e-3, True, 3)
    assert p.vae_widths == (32, 64, 128, 256) and p.bn_mode == "as_run"
    assert CONFIGS["quick"].vae_widths == (32, 64, 128, 256)


def test_overrides_and_seed():
    cfg = get_config("tiny", ["epochs=5", "lr=0.002", "e8_sizes=[4, 8]", "n_replay=10"], seed=7)
    assert (cfg.epochs, cfg.lr, cfg.e8_sizes, cfg.n_replay, cfg.seed) == (5, 0.002, (4, 8), 10, 7)
    assert cfg.replay_count == 10 and CONFIGS["tiny"].replay_count == CONFIGS["tiny"].n_memories
    assert get_config("tiny", ["n_replay=null"]).n_replay is None


@pytest.mark.parametrize("override, message", [
    ("nope=1", "unknown config key"),
    ("epochs=1.5", "expected an integer"),
    ("amsgrad=1", "true/false"),
    ("bn_mode=train", "bn_mode"),
    ("probe_kind=knn", "probe_kind"),
    ("converged_weight=1.5", "converged_weight"),
    ("e5_steps=2", "e5_steps"),
    ("vae_widths=[1, 2]", "vae_widths"),
])
def test_bad_overrides_raise(override, message):
    with pytest.raises(ValueError, match=message):
        get_config("tiny", [override])


def test_unknown_preset_and_type_errors():
    with pytest.raises(ValueError, match="unknown config"):
        get_config("huge")
    with pytest.raises(TypeError):
        validate_config({"seed": 0})
    with pytest.raises(ValueError, match="unknown config key"):
        config_load({"seed": 0, "typo": 1})


def test_config_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        CONFIGS["quick"].epochs = 3


# ----------------------------------------------------------------------------- replay
@given(st.integers(1, 5), st.integers(0, 2 ** 31))
@settings(max_examples=15)
def test_pattern_round_trip(n, seed):
    x = np.random.default_rng(seed).integers(0, 256, (n, 4, 4, 3)).astype(np.float32) / 255
    p = to_pattern(x)
    assert p.shape == (n, 48) and p.dtype == np.float32 and p.min() >= -1 and p.max() <= 1
    np.testing.assert_allclose(from_pattern(p, (4, 4, 3)), x, atol=1e-7)
    assert from_pattern(np.full((1, 48), 3.0), (4, 4, 3)).max() == 1.0  # clipped to [0, 1]


def test_replay_stats_counts():
    patterns = np.eye(4) * 2 - 1  # 4 distinct patterns
    winner = np.array([0, 0, 2, 1, 0])
    states = patterns[winner].copy()
    states[4] = 0.5 * (patterns[0] + patterns[3])  # a mixture: not converged
    info = {"winner": winner, "max_weight": np.array([1, 1, 1, 1, 0.5]), "n_iter": np.array([2, 2, 3, 1, 10])}
    s = replay_stats(states, info, patterns, 0.99)
    assert s["fraction_converged"] == pytest.approx(0.8)
    assert s["distinct_memories"] == 3 and s["replay_count_max"] == 3
    assert s["replay_count_histogram"] == {"0": 1, "1": 2, "3": 1}
    assert s["expected_fraction_replayed_uniform"] == pytest.approx(1 - 0.75 ** 5)
    assert s["mean_n_iter"] == pytest.approx(3.6)


def test_replay_converges_on_rendered_scenes():
    """Paper.md E1 (a) at small scale: noise replays end on single stored scenes."""
    from refmem.hippocampus.replay import build_hippocampus, replay_memories
    from refmem.datasets.shapes3d import sample

    x, _ = sample(40, 3, supersample=1, cache=False)
    net = build_hippocampus(x)
    states, info = replay_memories(net, 30, np.random.default_rng(0), batch=7)
    s = replay_stats(states, info, net.patterns)
    assert s["fraction_converged"] >= 0.95 and s["min_cosine"] > 0.9


def test_cosine_in_row_chunks_equals_the_whole_float64_formula():
    from refmem.hippocampus.replay import _cosine_to_winner

    rng = np.random.default_rng(5)
    patterns = rng.uniform(-1, 1, (9, 50)).astype(np.float32)
    winner = rng.integers(0, 9, 23)
    states = (patterns[winner] + rng.normal(0, 0.3, (23, 50))).astype(np.float32)
    states[3] = 0.0  # zero norm: cosine 0
    w, s = patterns[winner].astype(np.float64), states.astype(np.float64)
    den = np.linalg.norm(s, axis=1) * np.linalg.norm(w, axis=1)
    ref = np.divide(np.einsum("ij,ij->i", s, w), den, out=np.zeros(23), where=den > 0)
    for chunk in (1, 5, 23, 100):
        np.testing.assert_array_equal(_cosine_to_winner(states, patterns, winner, chunk=chunk), ref)


def test_replays_fill_one_array_in_batches():
    from refmem.hippocampus.replay import build_hippocampus, replay_memories

    x = np.random.default_rng(1).uniform(0, 1, (12, 4, 4, 3)).astype(np.float32)
    a, ia = replay_memories(build_hippocampus(x), 10, np.random.default_rng(2), batch=3)
    b, ib = replay_memories(build_hippocampus(x), 10, np.random.default_rng(2), batch=10)
    assert a.shape == (10, 48) and a.dtype == np.float32 and a.flags.c_contiguous
    np.testing.assert_array_equal(a, b)  # the cues are drawn batch after batch from one stream
    np.testing.assert_array_equal(ia["winner"], ib["winner"])


def test_few_shot_scores_in_chunks_like_one_float64_copy():
    from refmem.analysis.decoding import fit_probe
    from refmem.experiments.consolidation.fewshot import _score

    rng = np.random.default_rng(3)
    x = rng.normal(size=(60, 30)).astype(np.float32)
    y = (x[:, 0] + 0.5 * rng.normal(size=60) > 0).astype(int)
    probe = fit_probe(x[:30], y[:30])
    want = probe.score(x[30:].astype(np.float64), y[30:])
    assert 0 < want < 1
    for chunk in (1, 7, 250):
        assert _score(probe, x[30:], y[30:], chunk=chunk) == want


def _few_shot_problem():
    """Noise scenes whose class shows in one corner's brightness: pixel accuracy grows with n."""
    rng = np.random.default_rng(4)
    y = np.tile([0, 1, 2], 30)
    x = rng.uniform(0, 1, (90, 64, 64, 3))
    x[:, :4, :4, :] = 0.5 * x[:, :4, :4, :] + 0.4 * y[:, None, None, None]
    return x.clip(0, 1).astype(np.float32), y


@pytest.mark.parametrize("control_dtype", [np.float32, np.float64])
def test_few_shot_control_shares_the_pixel_curve_it_would_measure(monkeypatch, control_dtype):
    import refmem.experiments.consolidation.fewshot as fs
    from refmem.neocortex import shapes3d_vae

    x, y = _few_shot_problem()
    small = dict(latent_dim=4, widths=(4, 4, 4, 4))
    vae = shapes3d_vae(rng=np.random.default_rng(0), **small)
    untrained = shapes3d_vae(rng=np.random.default_rng(1), dtype=control_dtype, **small)
    args = (x[:30], y[:30], x[30:], y[30:], [3, 6, 30], ("conv1",), "svc")
    alone = fs._curves(untrained, *args)  # the control measured on its own, pixels included
    fitted = []
    real_fit = fs.fit_probe
    monkeypatch.setattr(fs, "fit_probe", lambda f, *a: fitted.append(f.shape[1]) or real_fit(f, *a))
    out = fs.few_shot(vae, *args, untrained_vae=untrained)
    ctl = dict(out["controls"]["untrained"])
    assert ctl.pop("mu_gain_over_untrained") == 0.0
    assert ctl == alone  # the same numbers as measuring the control alone
    assert len(set(out["accuracy"]["pixels"])) > 1  # the curve carries information to share
    pixel_fits = fitted.count(x[0].size)
    assert pixel_fits == (3 if control_dtype == np.float32 else 6)  # shared only in one dtype


def test_few_shot_control_rejects_a_pixel_curve_of_other_sizes():
    from refmem.neocortex import shapes3d_vae
    from refmem.experiments.consolidation.fewshot import _curves

    x, y = _few_shot_problem()
    vae = shapes3d_vae(rng=np.random.default_rng(0), latent_dim=4, widths=(4, 4, 4, 4))
    with pytest.raises(ValueError, match="one accuracy per size"):
        _curves(vae, x[:30], y[:30], x[30:], y[30:], [3, 6], (), "svc", pixels=[0.5])


def test_path_distances_of_a_repeated_image_are_measured_once_with_the_same_numbers(monkeypatch):
    import refmem.analysis.stats as stats
    from refmem.experiments.consolidation.analyses import _path_distances

    images = np.random.default_rng(5).uniform(0, 1, (30, 8, 8, 3)).astype(np.float32)
    refs = [np.arange(18 + i, 30) for i in range(3)]  # the references exclude the path images
    nearest = stats.nearest_distance
    repeated = np.broadcast_to(images[2:5, None], (3, 6) + images.shape[1:])  # one image per path
    want = np.stack([nearest(np.ascontiguousarray(p), images[r]) for p, r in zip(repeated, refs)])
    paths = images[:18].reshape((3, 6) + images.shape[1:])  # distinct steps: measured row by row
    want_paths = np.stack([nearest(p, images[r]) for p, r in zip(paths, refs)])
    rows = []
    monkeypatch.setattr(stats, "nearest_distance", lambda q, *a, **k: rows.append(len(q)) or nearest(q, *a, **k))
    got = _path_distances(repeated, images, refs)
    assert rows == [1, 1, 1]  # measured once per path
    np.testing.assert_array_equal(got, want)
    assert np.all(want > 0) and len(np.unique(want)) == 3
    np.testing.assert_array_equal(_path_distances(paths, images, refs), want_paths)
    assert rows[3:] == [6, 6, 6] and len(np.unique(want_paths)) == want_paths.size


# ----------------------------------------------------------------------------- E6 triples
@given(st.integers(1, 30), st.integers(0, 2 ** 31))
@settings(max_examples=20)
def test_triples_follow_the_definition(n, seed):
    sizes = (10, 10, 10, 8, 4, 15)
    t = make_triples(n, np.random.default_rng(seed), sizes)
    A, B, C, D, f = t["A"], t["B"], t["C"], t["D"], t["factor"]
    rows = np.arange(n)
    assert np.all((A != B).sum(axis=1) == 1) and np.all(A[rows, f] != B[rows, f])  # exactly one factor
    assert np.all(C[rows, f] == A[rows, f]) and np.all((C != A).any(axis=1))
    assert np.all(D[rows, f] == B[rows, f])
    mask = np.ones_like(C, bool)
    mask[rows, f] = False
    assert np.all(D[mask] == C[mask])
    for k in "ABCD":
        assert np.all(t[k] >= 0) and np.all(t[k] < np.array(sizes))


# ----------------------------------------------------------------------------- metrics
def test_recon_error_is_the_paper_metric():
    x = np.zeros((2, 2, 2, 3))
    y = np.zeros_like(x)
    y[0, 0, 0] = [0.3, 0.6, 0.9]  # channel mean 0.6 at one pixel of image 0
    assert recon_error(x, y) == pytest.approx(0.6 / 2)  # batch mean
    np.testing.assert_allclose(per_image_error(x, y), [0.6, 0.0])


def test_probe_split_is_disjoint_and_sized():
    fit, test = probe_split(50, 20, 25, np.random.default_rng(0))
    assert len(fit) == 20 and len(test) == 25 and not set(fit) & set(test)
    with pytest.raises(ValueError):
        probe_split(10, 6, 6, 0)


def test_decoding_accuracy_separable_and_degenerate():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(4), 20)
    mu = rng.normal(size=(80, 3)) * 0.1 + labels[:, None] * 3.0
    fit, test = probe_split(80, 40, 40, rng)
    assert decoding_accuracy(mu, labels, fit, test) == 1.0
    assert decoding_accuracy(mu, labels, fit, test, kind="logreg") == 1.0
    assert np.isnan(decoding_accuracy(mu, np.zeros(80, int), fit, test))  # one class: no probe


def test_mean_pairwise_mae():
    a = np.zeros((3, 2))
    a[1] = 1.0
    assert mean_pairwise_mae(a) == pytest.approx((1 + 0 + 1) / 3)
    assert mean_pairwise_mae(np.ones((4, 5))) == 0.0
    with pytest.raises(ValueError):
        mean_pairwise_mae(np.ones((1, 5)))
