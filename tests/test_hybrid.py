"""E16 (`refmem run hybrid`): criteria with pass and fail controls, tiny run with cached stages, bad input."""
import dataclasses
import json
import os

import pytest

from refmem.cli import EXPERIMENTS
from refmem.experiments.criteria import evaluate
from refmem.experiments.hybrid import CONFIGS, main, validate_config
from refmem.experiments.hybrid.criteria import UNTRAINED, criteria_for, measures


def _cell(vae, raw, hybrid):
    return {"vae": vae, "raw": raw, "hybrid": hybrid}


def test_criteria_pass_and_untrained_control_fails():
    table = {"epoch 1": {"0.25": _cell(0.0, 1.0, 0.6), "0.75": _cell(0.0, 0.2, 0.5)},
             "epoch 10": {"0.25": _cell(0.02, 1.0, 0.98), "0.75": _cell(0.0, 0.2, 0.7)}}
    untrained = {"untrained": {"0.25": _cell(0.0, 1.0, 0.004), "0.75": _cell(0.0, 0.2, 0.004)}}
    m = measures(table, "0.25")
    assert m == pytest.approx({"min_hybrid_minus_vae": 0.6, "best_hybrid_minus_raw": 0.5})
    rows = evaluate(criteria_for(), m, {UNTRAINED: measures(untrained, "0.25")})
    assert [r["passed"] for r in rows] == [True, True]
    assert [r["control_passed"] for r in rows] == [False, False]


def test_criteria_fail_when_the_gist_adds_nothing():
    table = {"epoch 1": {"0.25": _cell(0.0, 1.0, 0.05), "0.75": _cell(0.0, 0.3, 0.3)}}
    rows = evaluate(criteria_for(), measures(table, "0.25"))
    assert [r["passed"] for r in rows] == [False, False]
    with pytest.raises(ValueError):
        measures({}, "0.25")


def test_tiny_run_caches_stages(tmp_path, monkeypatch):
    monkeypatch.setenv("REFMEM_CACHE_DIR", str(tmp_path / "cache"))
    out = str(tmp_path / "run")
    assert main(["--config", "tiny", "--out", out, "--quiet"]) == 0
    with open(os.path.join(out, "results.json")) as fh:
        res = json.load(fh)
    assert set(res["table"]) == {"untrained", "epoch 1", "epoch 2"}
    assert set(res["table"]["epoch 2"]) == {"0.25", "0.5", "0.75"}
    assert os.path.isfile(os.path.join(out, "examples.png"))
    stages = sorted(os.listdir(os.path.expanduser(res["stage_dir"])))
    assert {"stage_0.npz", "stage_1.npz", "stage_2.npz", "history.json"} <= set(stages)
    from refmem.experiments.hybrid.run import run
    again = run(CONFIGS["tiny"], str(tmp_path / "run2"), quiet=True, preset="tiny")   # reuses the stages
    assert again["table"] == res["table"] and again["timings"]["stages"] < res["timings"]["stages"] + 60


def test_registry_and_bad_config():
    assert EXPERIMENTS["hybrid"] == "refmem.experiments.hybrid"
    for bad in (dict(stages=(4, 2)), dict(stages=()), dict(fractions=(0.0,)), dict(n_test=10 ** 6),
                dict(recovery_cosine=1.5), dict(probe_train=100)):
        with pytest.raises(ValueError):
            validate_config(dataclasses.replace(CONFIGS["tiny"], **bad))
    with pytest.raises(TypeError):
        validate_config(None)
