"""Paper-scale checks of the extended model (docs/paper-experiments.md, E12-E13) with a trained VAE: slow.

The VAE is taken from ``$REFMEM_EXTENDED_VAE`` (a ``vae.npz``, e.g. the one a
``refmem run consolidation`` wrote) or else trained with the quick consolidation config
(several minutes on 2 cores).
"""
import os

import numpy as np
import pytest

from refmem.experiments.extended import CONFIGS, run

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def quick_results(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("extended_quick"))
    path = os.environ.get("REFMEM_EXTENDED_VAE")
    return run(CONFIGS["quick"], out, vae_path=path, preset="quick", verbose=False)


def _crit(res, cid):
    return next(c for c in res["criteria"] if c["id"] == cid)


def test_retrieval_of_the_cued_item(quick_results):
    for r in quick_results["summary"]["per_threshold"]:
        assert r["retrieval_accuracy"] >= 0.9, r


def test_low_threshold_beats_vae_especially_in_squares(quick_results):
    assert _crit(quick_results, "E12b")["passed"]
    assert _crit(quick_results, "E12c")["passed"]


def test_high_threshold_loses_the_squares(quick_results):
    assert _crit(quick_results, "E12d")["passed"]


def test_error_threshold_trade_off(quick_results):
    """E13: mean SSE strictly up and mean count strictly down over the 5 thresholds
    (Spearman +1 / -1), the error at 0.20 at least 5x that at 0.01, and per item the
    monotonicity invariant (stored units always; SSE where retrieval is exact)."""
    s = quick_results["summary"]
    assert s["strictly_monotone"]["count_decreasing"] and s["spearman_count"]["rho"] == pytest.approx(-1)
    assert s["strictly_monotone"]["sse_increasing"] and s["spearman_sse"]["rho"] == pytest.approx(1)
    assert _crit(quick_results, "E13c")["passed"]
    m = s["monotonicity"]
    assert m["stored_violations"] == 0 and m["sse_violations_exact"] == 0


def test_storage_economy(quick_results):
    """Above the lowest threshold the trace (non-zero sensory elements + latent) is
    smaller than the image, and it shrinks as the threshold rises."""
    per = quick_results["summary"]["per_threshold"]
    econ = [r["economy_mean"] for r in per]
    assert np.all(np.diff(econ) <= 0)
    assert all(r["economy_mean"] < 1.0 for r in per if r["threshold"] >= 0.05)
