"""E9 (`refmem run lesion`): criteria with pass and fail controls, matched cohorts, tiny run, CLI, bad input."""
import dataclasses
import json
import os

import numpy as np
import pytest

from refmem.cli import EXPERIMENTS
from refmem.experiments.criteria import evaluate
from refmem.experiments.lesion import CONFIGS, LesionConfig, main, validate_config
from refmem.experiments.lesion.criteria import NO_HIPPOCAMPUS, NO_REPLAY, criteria_for, measures
from refmem.experiments.lesion.run import matched_cohorts, run


def _errors(n_days=5, n=60, gradient=20.0, seed=0):
    rng = np.random.default_rng(seed)
    cohort = np.repeat(np.arange(n_days), n)
    slot = np.tile(np.arange(n), n_days)
    difficulty = rng.normal(200, 15, n)[slot]                # paired slots share a difficulty
    age = n_days - 1 - cohort
    lesioned = difficulty - gradient * age + rng.normal(0, 5, len(cohort))
    return cohort, slot, lesioned


def test_criteria_pass_on_a_gradient_and_their_controls_fail():
    cohort, slot, lesioned = _errors()
    intact = np.full_like(lesioned, 1e-4)
    m = measures(intact, lesioned, cohort, slot, 0.7)
    _, _, flat = _errors(gradient=0.0, seed=1)
    controls = {NO_REPLAY: measures(intact, flat, cohort, slot, 0.39),
                NO_HIPPOCAMPUS: measures(lesioned, lesioned, cohort, slot, 0.7)}
    rows = evaluate(criteria_for(), m, controls)
    assert [r["passed"] for r in rows] == [True] * 4
    assert [r["control_passed"] for r in rows] == [False] * 4
    assert m["gradient_rho"] < 0 and m["oldest_minus_newest"] < 0


def test_reversed_gradient_fails():
    cohort, slot, lesioned = _errors(gradient=-20.0)
    m = measures(np.zeros_like(lesioned), lesioned, cohort, slot, 0.7)
    assert m["gradient_p"] > 0.5 and m["paired_p"] > 0.5


def test_measures_bad_input():
    cohort, slot, lesioned = _errors(n=4)
    with pytest.raises(ValueError):
        measures(lesioned[:-1], lesioned, cohort, slot, 0.5)
    other = slot.copy()
    other[-1] = 99                                                  # the newest cohort lacks slot 3
    with pytest.raises(ValueError):
        measures(lesioned, lesioned, cohort, other, 0.5)


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


def test_tiny_run_outputs_and_resume(tmp_path):
    out = str(tmp_path / "run")
    res = run(CONFIGS["tiny"], out, quiet=True, preset="tiny")
    for f in ("results.json", "report.md", "config.json", "examples.png", "days.npz"):
        assert os.path.isfile(os.path.join(out, f))
    with open(os.path.join(out, "results.json")) as fh:
        saved = json.load(fh)
    assert saved["reconstruction"] is True and len(saved["criteria"]) == 4
    assert saved["per_cohort"]["intact"]["mean"][0] < 1.0
    assert "Reconstruction" in open(os.path.join(out, "report.md")).read()
    p = saved["partial_lesion"]
    assert p["used_hippocampus"][0] == 1.0 and p["used_hippocampus"][-1] == 0.0
    again = run(CONFIGS["tiny"], out, resume=True, quiet=True, preset="tiny")    # every day checkpointed
    assert again["per_cohort"] == res["per_cohort"]
    with pytest.raises(ValueError):
        run(dataclasses.replace(CONFIGS["tiny"], n_per_cohort=9), out, resume=True, quiet=True)


def test_cli_registry_and_bad_input(tmp_path, capsys):
    assert EXPERIMENTS["lesion"] == "refmem.experiments.lesion"
    assert set(CONFIGS) == {"quick", "paper", "tiny"}
    with pytest.raises(SystemExit):
        main(["--config", "tiny", "--set", "n_days=one", "--out", str(tmp_path)])
    for bad in (dict(n_days=1), dict(epochs_per_day=-1), dict(lesion_fractions=(0.5, 1.2)),
                dict(vae_widths=(4, 8)), dict(context_factor=4), dict(probe_kind="knn")):
        with pytest.raises(ValueError):
            validate_config(dataclasses.replace(CONFIGS["tiny"], **bad))
    with pytest.raises(TypeError):
        validate_config({"n_days": 3})
    assert isinstance(LesionConfig(), LesionConfig)
