"""E17 (`refmem run novelty`): criteria with pass and fail controls, data splits, tiny run, bad input."""
import dataclasses
import json
import os

import numpy as np
import pytest

from refmem.cli import EXPERIMENTS
from refmem.experiments.criteria import evaluate
from refmem.experiments.novelty import CONFIGS, main, validate_config
from refmem.experiments.novelty.criteria import RANDOM_SPLIT, SETS, criteria_for, measures, set_measures


def _set(shift, seed=0, n=200):
    rng = np.random.default_rng(seed)
    fam, nov = rng.normal(60, 15, n), rng.normal(60 + shift, 15, n)
    return fam, nov, np.round(fam / 4), np.round(nov / 4)


def test_criteria_pass_on_separated_sets_and_random_split_fails():
    real = {s: set_measures(*_set(60.0, i), threshold=100.0) for i, s in enumerate(SETS)}
    split = {s: set_measures(*_set(0.0, 10 + i), threshold=100.0) for i, s in enumerate(SETS)}
    rows = evaluate(criteria_for(), measures(real), {RANDOM_SPLIT: measures(split)})
    assert len(rows) == 9
    assert all(r["passed"] for r in rows)
    assert not any(r["control_passed"] for r in rows)
    assert all(0.35 < split[s]["auc"] < 0.65 for s in SETS)


def test_set_measures_values_and_bad_input():
    m = set_measures(np.array([1.0, 2, 3]), np.array([4.0, 5, 150]), np.array([0, 1, 1]), np.array([5, 6, 7]), 100)
    assert m["auc"] == 1.0 and m["frac_familiar"] == 0 and m["frac_novel"] == pytest.approx(1 / 3)
    assert m["trace_p"] < 0.1 and m["trace_novel"] == 6.0
    const = set_measures(np.ones(4), np.ones(4), np.zeros(4), np.zeros(4), 1.0)
    assert const["trace_p"] == 1.0 and const["auc"] == 0.5
    with pytest.raises(ValueError):
        set_measures(np.ones(3), np.ones(3), np.ones(2), np.ones(3), 1.0)


def test_data_splits_hold_out_the_novel_classes():
    from refmem._utils import spawn_rngs
    from refmem.experiments.novelty.run import digits_sets, shapes_sets

    cfg = CONFIGS["tiny"]
    r = spawn_rngs(0, ["a", "b", "c"])
    d, dy = digits_sets(cfg, r["a"], r["b"])
    assert dy.shape == (2 * cfg.n_test,) and not np.isin(dy, cfg.digits_novel).any()
    assert d["train"].shape == (64, 28, 28, 1) and d["familiar"].shape[0] == 2 * cfg.n_test
    assert d["scenes_ood"].shape == (cfg.n_test, 28, 28, 1)
    s, sy = shapes_sets(cfg, r["c"])
    assert sy.shape == (2 * cfg.n_test,) and not np.any(sy == cfg.novel_shape)
    assert s["train"].shape[0] == cfg.shapes_train and s["novel_shape"].shape[0] == cfg.n_test


def test_tiny_run_and_resume(tmp_path, monkeypatch, drop_default_field):
    monkeypatch.setenv("REFMEM_CACHE_DIR", str(tmp_path / "cache"))
    out = str(tmp_path / "run")
    assert main(["--config", "tiny", "--out", out, "--quiet"]) == 0
    with open(os.path.join(out, "results.json")) as fh:
        res = json.load(fh)
    assert len(res["criteria"]) == 9 and set(res["sets"]) == set(SETS)
    for f in ("vae_shapes.npz", "vae_digits.npz", "examples_shapes.png", "examples_digits.png", "report.md"):
        assert os.path.isfile(os.path.join(out, f))
    assert main(["--config", "tiny", "--out", out, "--quiet", "--resume"]) == 0
    with open(os.path.join(out, "results.json")) as fh:
        again = json.load(fh)
    assert again["sets"] == res["sets"] and again["training_loss"] == {}        # VAEs reused
    drop_default_field(os.path.join(out, "config.json"), CONFIGS["tiny"])  # as recorded before it existed
    assert main(["--config", "tiny", "--out", out, "--quiet", "--resume"]) == 0
    with open(os.path.join(out, "results.json")) as fh:
        assert json.load(fh)["training_loss"] == {}  # still the same run: VAEs reused


def test_registry_and_bad_config():
    assert EXPERIMENTS["novelty"] == "refmem.experiments.novelty"
    for bad in (dict(novel_shape=4), dict(digits_novel=()), dict(digits_novel=(3, 3)), dict(n_test=2),
                dict(shapes_threshold=-1.0), dict(min_auc=1.5), dict(digits_train=0), dict(digits_recon="l2")):
        with pytest.raises(ValueError):
            validate_config(dataclasses.replace(CONFIGS["tiny"], **bad))
