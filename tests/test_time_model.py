"""Model-level pieces of memory over time: consolidation over days (cohort bookkeeping,
resume), lesions, hippocampal / neocortical / arbitrated / hybrid recall, snapshots, ROC AUC."""
import numpy as np
import pytest

from refmem.analysis.stats import roc_auc
from refmem.hippocampus.lesion import lesion, lesion_mask
from refmem.hippocampus.replay import build_hippocampus
from refmem.neocortex import shapes3d_vae
from refmem.neocortex.training import Snapshots, fit
from refmem.nn.optim import Adam
from refmem.systems.days import cohort_index, consolidate_over_days, stored_count
from refmem.systems.recall import (arbitrated_recall, cosine_to, exact_recovery, gist_then_hopfield,
                                   hippocampal_recall, neocortical_recall)


def _scenes(n, seed=0, size=64):
    rng = np.random.default_rng(seed)
    return (np.floor(rng.random((n, size, size, 3)) * 255) / 255).astype(np.float32)


def _vae(seed=0):
    return shapes3d_vae(rng=seed, widths=(4, 4, 8, 8))


class _ConstVAE:
    """A stand-in VAE whose recall is a constant grey image (or the cue itself)."""

    def __init__(self, identity=False):
        self.identity = identity

    def reconstruct(self, x, batch_size=None):
        return x.copy() if self.identity else np.full_like(x, 0.5)


# ------------------------------------------------------------------ days
def test_cohort_index_and_stored_count():
    c = cohort_index(3, 4)
    assert c.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3]
    assert [stored_count(c, d) for d in range(4)] == [3, 6, 9, 12]
    with pytest.raises(ValueError):
        cohort_index(0, 3)
    with pytest.raises(TypeError):
        cohort_index(2.0, 3)


def test_replays_come_only_from_stored_memories():
    x = _scenes(9)
    cohort = cohort_index(3, 3)
    vae = _vae()
    h = consolidate_over_days(vae, Adam(vae.params), x, cohort, epochs_per_day=1, batch_size=4, replay_seed=1)
    counts = h["replay_counts"]
    assert counts.shape == (3, 9)
    for day in range(3):
        n_t = stored_count(cohort, day)
        assert h["n_stored"][day] == n_t
        assert counts[day, n_t:].sum() == 0            # nothing replayed before it was stored
        assert counts[day].sum() == n_t                 # one replay per stored memory
    assert h["days_done"] == 3 and len(h["loss"]) == 3 and np.all(np.isfinite(h["loss"]))


def test_fixed_replays_per_day_and_no_training_control():
    x = _scenes(6)
    vae = _vae()
    before = vae.get_state()
    h = consolidate_over_days(vae, Adam(vae.params), x, cohort_index(2, 3), epochs_per_day=0, replays_per_day=5)
    assert h["replay_counts"].sum(axis=1).tolist() == [5, 5, 5]
    assert all(np.array_equal(before[k], v) for k, v in vae.get_state().items())   # k = 0: untouched
    assert np.all(np.isnan(h["loss"]))


class _Stop(Exception):
    pass


def test_resume_after_a_day_matches_an_uninterrupted_run(tmp_path):
    x, cohort = _scenes(6, 1), cohort_index(2, 3)
    kw = dict(epochs_per_day=1, batch_size=4, replay_seed=3, epoch_seed=4)
    full = _vae()
    h_full = consolidate_over_days(full, Adam(full.params), x, cohort, **kw)

    def stop_after_first(line):
        if line.startswith("day 1/"):
            raise _Stop
    ck = str(tmp_path / "days.npz")
    part = _vae()
    with pytest.raises(_Stop):
        consolidate_over_days(part, Adam(part.params), x, cohort, checkpoint_path=ck, log=stop_after_first, **kw)
    resumed = _vae()
    h = consolidate_over_days(resumed, Adam(resumed.params), x, cohort, checkpoint_path=ck, resume=True, **kw)
    assert h["days_done"] == 3
    assert np.array_equal(h["replay_counts"], h_full["replay_counts"])
    for k, v in full.get_state().items():
        np.testing.assert_array_equal(resumed.get_state()[k], v)


def test_days_bad_input():
    x = _scenes(4)
    vae = _vae()
    with pytest.raises(ValueError):
        consolidate_over_days(vae, Adam(vae.params), x, np.array([1, 0, 0, 1]), epochs_per_day=1)
    with pytest.raises(ValueError):
        consolidate_over_days(vae, Adam(vae.params), x, np.array([0, 0, 2, 2]), epochs_per_day=1)
    with pytest.raises(ValueError):
        consolidate_over_days(vae, Adam(vae.params), x, cohort_index(2, 2), epochs_per_day=-1)
    with pytest.raises(ValueError):
        consolidate_over_days(vae, Adam(vae.params), x[0], cohort_index(2, 2), epochs_per_day=1)


# ------------------------------------------------------------------ lesions
def test_lesion_mask_removes_exactly_the_fraction():
    for f, kept in ((0.0, 20), (0.25, 15), (0.5, 10), (1.0, 0)):
        m = lesion_mask(20, f, rng=0)
        assert m.dtype == bool and m.shape == (20,) and int(m.sum()) == kept
    assert not np.array_equal(lesion_mask(20, 0.5, rng=0), lesion_mask(20, 0.5, rng=1))
    with pytest.raises(ValueError):
        lesion_mask(10, 1.5)
    with pytest.raises(TypeError):
        lesion_mask(10, "half")


def test_lesion_keeps_only_survivors():
    x = _scenes(5, size=8)
    net = build_hippocampus(x)
    keep = np.array([True, False, True, False, True])
    small = lesion(net, keep)
    np.testing.assert_array_equal(small.patterns, net.patterns[keep])
    assert net.n_patterns == 5 and small.beta == net.beta
    assert lesion(net, np.zeros(5, bool)) is None
    with pytest.raises(ValueError):
        lesion(net, np.ones(4, bool))
    with pytest.raises(TypeError):
        lesion("net", keep)


# ------------------------------------------------------------------ recall
def test_hippocampal_recall_is_exact_and_arbitration_uses_survivors():
    x = _scenes(6, 2, size=16)
    net = build_hippocampus(x)
    cues = x.copy()
    cues.reshape(6, -1)[:, ::10] = 0                   # 10 % zeroed
    rec, winner = hippocampal_recall(net, cues)
    assert winner.tolist() == list(range(6))
    assert np.all(exact_recovery(rec, x))
    keep = np.array([True, True, True, False, False, False])
    out, used = arbitrated_recall(lesion(net, keep), _ConstVAE(), cues)
    assert used.tolist() == keep.tolist()             # removed memories fall back to the VAE
    np.testing.assert_allclose(out[3:], 0.5)
    out, used = arbitrated_recall(None, _ConstVAE(), cues)
    assert not used.any()
    np.testing.assert_allclose(neocortical_recall(_ConstVAE(), cues), 0.5)
    with pytest.raises(ValueError):
        hippocampal_recall(net, cues[:, :8])


def test_gist_then_hopfield_restores_details():
    x = _scenes(5, 3, size=16)
    net = build_hippocampus(x)
    gist = np.clip(x + 0.1 * np.random.default_rng(0).standard_normal(x.shape), 0, 1).astype(np.float32)
    rec, g = gist_then_hopfield(_ConstVAE(identity=True), net, gist)
    np.testing.assert_array_equal(g, gist)
    assert not np.any(exact_recovery(gist, x, 0.999)) and np.all(exact_recovery(rec, x, 0.999))


def test_cosine_and_recovery():
    a = _scenes(3, size=4)
    np.testing.assert_allclose(cosine_to(a, a), 1.0)
    assert np.all(cosine_to(a, 1 - a) < 0)
    with pytest.raises(ValueError):
        exact_recovery(a, a, 0.0)
    with pytest.raises(ValueError):
        cosine_to(a, a[:2])


# ------------------------------------------------------------------ snapshots, ROC AUC
def test_snapshots_keep_the_chosen_epochs():
    vae = _vae()
    saved = []
    snap = Snapshots([3, 1], on_save=lambda e, v: saved.append(e))
    fit(vae, _scenes(4), 3, batch_size=2, rng=0, patience=None, callbacks=[snap])
    assert sorted(snap.states) == [1, 3] and saved == [1, 3]
    final = vae.get_state()
    assert all(np.array_equal(snap.states[3][k], final[k]) for k in final)
    assert not all(np.array_equal(snap.states[1][k], final[k]) for k in final)
    with pytest.raises(ValueError):
        Snapshots([0, 2])
    with pytest.raises(ValueError):
        Snapshots([])


def test_roc_auc_matches_pair_counting():
    rng = np.random.default_rng(0)
    neg, pos = rng.integers(0, 5, 30).astype(float), rng.integers(2, 8, 20).astype(float)
    pairs = (pos[:, None] > neg[None]).mean() + 0.5 * (pos[:, None] == neg[None]).mean()
    assert roc_auc(neg, pos) == pytest.approx(pairs)
    assert roc_auc(neg, pos) + roc_auc(pos, neg) == pytest.approx(1.0)
    with pytest.raises(ValueError):
        roc_auc([], [1.0])
    with pytest.raises(ValueError):
        roc_auc([np.nan], [1.0])
