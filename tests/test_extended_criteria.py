"""Every extended-model criterion (E12-E13) on a small case that must pass and on its
negative control, which must fail.

The good model is an oracle VAE: it recognises each stimulus and predicts its scene
without the white squares, wrong only on a few scattered elements; the controls are the
sweeps the run computes (:func:`refmem.experiments.extended.run.control_summaries`).
"""
import numpy as np
import pytest

from refmem.experiments.criteria import evaluate
from refmem.experiments.extended.config import ExtendedConfig
from refmem.experiments.extended.criteria import CONTROLS, CRITERIA, MEASURES, measures
from refmem.experiments.extended.run import _every_threshold, control_summaries, untrained_like
from refmem.experiments.extended.sweep import make_cues, summarize, threshold_sweep
from refmem.neocortex import shapes3d_vae

N = 6


class OracleVAE:
    """Knows the stimuli: mu = 10 x one-hot of the nearest one; g(z) = its scene without the
    squares, with an error in [-0.3, 0.3] on 3% of the elements."""

    input_shape = (64, 64, 3)
    latent_dim = N
    dtype = np.float32

    def __init__(self, stimuli, scenes, rng):
        self.stimuli = stimuli
        err = rng.uniform(-0.3, 0.3, scenes.shape) * (rng.random(scenes.shape) < 0.03)
        self.pred = np.clip(scenes + err, 0, 1).astype(np.float32)

    def encode(self, x, batch_size=None):
        d = np.abs(np.asarray(x)[:, None] - self.stimuli[None]).mean(axis=(2, 3, 4))
        mu = 10 * np.eye(N, dtype=np.float32)[np.argmin(d, 1)]
        return mu, np.zeros_like(mu)

    def decode(self, z, batch_size=None):
        return self.pred[np.argmax(np.asarray(z), 1)]


@pytest.fixture(scope="module")
def case():
    from refmem.datasets import shapes3d, transforms

    rng = np.random.default_rng(0)
    scenes = np.asarray(shapes3d.sample(N, rng, supersample=1)[0], np.float32)
    stimuli = transforms.add_white_squares(scenes, transforms.PAPER_SQUARES, size=8, quantize=True).astype(np.float32)
    cues = make_cues(stimuli, 0.1, rng)
    cfg = ExtendedConfig(n_items=N, batch_size=N)
    thresholds = sorted(set(cfg.thresholds) | set(cfg.figure_thresholds))
    vae = OracleVAE(stimuli, scenes, rng)
    summary = summarize(threshold_sweep(vae, stimuli, cues, thresholds, beta=cfg.beta, batch_size=N), cfg.thresholds)
    untrained = shapes3d_vae(rng=0, dtype=np.float32, widths=(4, 4, 8, 8))
    controls = control_summaries(vae, untrained, stimuli, cues, cfg, thresholds, 0.03)
    rows = evaluate(CRITERIA, measures(summary, 0.03, 0.15),
                    {name: measures(s, 0.03, 0.15) for name, s in controls.items()})
    return {r["id"]: r for r in rows}


@pytest.mark.parametrize("cid", [c.id for c in CRITERIA])
def test_criterion_passes_and_its_control_fails(case, cid):
    r = case[cid]
    assert r["passed"] is True, r
    assert r["control_passed"] is False, r


def test_declarations():
    assert len({c.id for c in CRITERIA}) == len(CRITERIA)
    assert {c.measure for c in CRITERIA} == set(MEASURES)
    assert {c.control for c in CRITERIA} <= set(CONTROLS)


def test_every_threshold_and_untrained_like():
    vae = shapes3d_vae(rng=1, dtype=np.float32, widths=(4, 4, 8, 8))
    twin = untrained_like(vae, 1)
    assert twin.config == vae.config and all(np.array_equal(a, b) for a, b in zip(twin.params, vae.params))

    class Custom:
        config = None

    assert untrained_like(Custom(), 0) is None
    x = np.random.default_rng(2).random((2, 64, 64, 3)).astype(np.float32)
    one = threshold_sweep(vae, x, x, [0.0], batch_size=2)
    rep = _every_threshold(one, [0.01, 0.1])
    assert rep.sse.shape == (2, 2) and np.array_equal(rep.sse[0], rep.sse[1]) and list(rep.thresholds) == [0.01, 0.1]
    m = measures(summarize(rep), 0.01, 0.1)
    assert m["e13_spearman_sse"] == 0.0 and m["e12_squares_lost_at_high"] == 0.0
    # one threshold: no trend can be measured
    m1 = measures(summarize(one), 0.0, 0.0)
    assert "e13_spearman_sse" not in m1 and "e13_sse_ratio" not in m1 and "e12_exact_retrieval_min" in m1
