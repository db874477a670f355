"""E9 (`refmem run lesion`): criteria with pass and fail controls, matched cohorts, tiny run, CLI, bad input."""
import dataclasses
import json
import os

import numpy as np
import pytest

from refmem.cli import EXPERIMENTS
from refmem.experiments.criteria import evaluate
from refmem.experiments.lesion import CONFIGS, LesionConfig, main, validate_config
from refmem.experiments.lesion.criteria import NO_HIPPOCAMPUS, NO_REPLAY, by_age, criteria_for, measures
from refmem.experiments.lesion.run import matched_cohorts, run


def _errors(n_days=5, n=60, gradient=20.0, seed=0):
    """Per-scene errors after the forward and reverse orders: difficulty + gradient x age + noise."""
    rng = np.random.default_rng(seed)
    group = np.repeat(np.arange(n_days), n)
    difficulty = rng.normal(200, 15, n_days * n) + 10 * group      # groups differ in difficulty too
    forward = difficulty - gradient * (n_days - 1 - group) + rng.normal(0, 5, len(group))
    reverse = difficulty - gradient * group + rng.normal(0, 5, len(group))
    return group, forward, reverse


def test_criteria_pass_on_a_gradient_and_their_controls_fail():
    group, fwd, rev = _errors()
    intact = np.full_like(fwd, 1e-4)
    m = measures(intact, fwd, rev, group, 0.7)
    ctl = _errors(gradient=0.0, seed=1)[1]
    controls = {NO_REPLAY: measures(intact, ctl, ctl, group, 0.39),          # k = 0: one VAE for both orders
                NO_HIPPOCAMPUS: measures(fwd, fwd, rev, group, 0.7)}
    rows = evaluate(criteria_for(), m, controls)
    assert [r["passed"] for r in rows] == [True] * 4
    assert [r["control_passed"] for r in rows] == [False] * 4
    assert m["gradient_rho"] < 0 and m["oldest_minus_newest"] < 0
    curve = by_age(fwd, rev, group)
    assert curve[0] > curve[-1] and len(curve) == 5


def test_group_difficulty_alone_is_no_gradient():
    group, fwd, rev = _errors(gradient=0.0, seed=2)                    # groups differ, age does not matter
    m = measures(np.zeros_like(fwd), fwd, rev, group, 0.7)
    assert m["gradient_p"] > 0.01 and m["paired_p"] > 0.01


def test_reversed_gradient_fails():
    group, fwd, rev = _errors(gradient=-20.0)
    m = measures(np.zeros_like(fwd), fwd, rev, group, 0.7)
    assert m["gradient_p"] > 0.5 and m["paired_p"] > 0.5


def test_measures_bad_input():
    group, fwd, rev = _errors(n=4)
    with pytest.raises(ValueError):
        measures(fwd[:-1], fwd, rev, group, 0.5)
    with pytest.raises(ValueError):
        measures(fwd, fwd, rev, np.zeros_like(group), 0.5)                # a single day


def test_matched_cohorts_share_geometry_and_are_distinct():
    from refmem.datasets.shapes3d import factors_to_index

    labels, slot = matched_cohorts(20, 4, 30, np.random.default_rng(0), context_factor=None)
    assert labels.shape == (110, 6) and len(np.unique(factors_to_index(labels))) == 110
    mem = labels[:80].reshape(4, 20, 6)
    assert np.all(mem[:, :, 3:5] == mem[:1, :, 3:5])             # scale and shape per slot
    assert slot.tolist() == list(range(20)) * 4
    ctx, _ = matched_cohorts(20, 4, 0, np.random.default_rng(1), context_factor=1)
    day = np.repeat(np.arange(4), 20)
    assert np.all(ctx[:, 1] % 4 == day)                            # each day its own wall hues


def test_tiny_run_outputs_and_resume(tmp_path, drop_default_field):
    out = str(tmp_path / "run")
    res = run(CONFIGS["tiny"], out, quiet=True, preset="tiny")
    for f in ("results.json", "report.md", "config.json", "examples.png", "days_forward.npz", "days_reverse.npz"):
        assert os.path.isfile(os.path.join(out, f))
    with open(os.path.join(out, "results.json")) as fh:
        saved = json.load(fh)
    assert saved["reconstruction"] is True and len(saved["criteria"]) == 4
    assert saved["by_age"]["intact"]["mean"][0] < 1.0
    assert saved["controls"]["no replay (k = 0)"]["gradient_p"] == 1.0       # one untrained VAE: no age effect
    assert "Reconstruction" in open(os.path.join(out, "report.md")).read()
    p = saved["partial_lesion"]
    assert p["used_hippocampus"][0] == 1.0 and p["used_hippocampus"][-1] == 0.0
    again = run(CONFIGS["tiny"], out, resume=True, quiet=True, preset="tiny")    # every day checkpointed
    assert again["by_age"] == res["by_age"]
    drop_default_field(os.path.join(out, "config.json"), CONFIGS["tiny"])  # as recorded before it existed
    assert run(CONFIGS["tiny"], out, resume=True, quiet=True, preset="tiny")["by_age"] == res["by_age"]
    with pytest.raises(ValueError):
        run(dataclasses.replace(CONFIGS["tiny"], n_per_cohort=9), out, resume=True, quiet=True)


def test_cli_registry_and_bad_input(tmp_path, capsys):
    assert EXPERIMENTS["lesion"] == "refmem.experiments.lesion"
    assert set(CONFIGS) == {"quick", "paper", "tiny"}
    assert main(["--config", "tiny", "--set", "n_days=one", "--out", str(tmp_path)]) == 2
    assert main(["--config", "tiny", "--set", "n_days=1", "--out", str(tmp_path)]) == 2
    with pytest.raises(SystemExit):
        main(["--config", "nonexistent"])
    for bad in (dict(n_days=1), dict(epochs_per_day=-1), dict(lesion_fractions=(0.5, 1.2)),
                dict(vae_widths=(4, 8)), dict(context_factor=4), dict(probe_kind="knn")):
        with pytest.raises(ValueError):
            validate_config(dataclasses.replace(CONFIGS["tiny"], **bad))
    with pytest.raises(TypeError):
        validate_config({"n_days": 3})
    assert isinstance(LesionConfig(), LesionConfig)
