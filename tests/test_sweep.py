"""refmem sweep: expanding runs, bad input, skip/resume/failure handling, executors.

Most tests drive the null experiment (refmem.sweep.null: a known measure per seed, no model)
through an in-process single-thread executor; one test runs real tiny experiments on the
local process pool, one on a Dask LocalCluster (skipped without the dask extra).
"""
import concurrent.futures as cf
import dataclasses
import json
import os
import sys

import pytest

from refmem.sweep.cli import main as sweep_main
from refmem.sweep.execute import THREAD_VARS, execute, open_executor
from refmem.sweep.plan import SweepError, parse_seeds, plan, run_state

NULL = "refmem.sweep.null"
REG = {"consolidation": NULL, "dep": NULL, "null": NULL}


def _results(run):
    with open(os.path.join(run.out, "results.json")) as fh:
        return json.load(fh)


def _execute(runs):
    with cf.ThreadPoolExecutor(max_workers=1) as ex:  # one thread: run_one redirects sys.stdout
        return execute(runs, ex, say=lambda s: None)


# --- expanding runs and bad input ------------------------------------------------------------

def test_parse_seeds():
    assert parse_seeds("0-4") == [0, 1, 2, 3, 4]
    assert parse_seeds("3") == [3]
    assert parse_seeds("0,2,2, 5-6") == [0, 2, 5, 6]


@pytest.mark.parametrize("bad", ["3-1", "a", "", "-1", "1-", "0-4,x", "1.5"])
def test_parse_seeds_rejects(bad):
    with pytest.raises(SweepError):
        parse_seeds(bad)


def test_plan_expands_runs_and_shared_vae(tmp_path):
    runs = plan(["dep", "null"], ["tiny"], [0, 1], ["dep:vae_preset=tiny", "value=2"], str(tmp_path), REG)
    by = {r.name: r for r in runs}
    # the shared-VAE runs come first, once per (preset, seed), with no overrides
    assert [r.role for r in runs[:2]] == ["vae", "vae"]
    assert {r.name for r in runs[:2]} == {"consolidation-tiny-seed0", "consolidation-tiny-seed1"}
    deps = [r for r in runs if r.experiment == "dep"]
    assert [r.needs for r in deps] == ["consolidation-tiny-seed0", "consolidation-tiny-seed1"]
    assert deps[0].overrides == ("vae_preset=tiny", "value=2") and deps[0].config["value"] == 2.0
    nulls = [r for r in runs if r.experiment == "null"]
    assert nulls[0].overrides == ("value=2",) and nulls[0].needs is None
    assert nulls[0].name.startswith("null-tiny-seed0-") and len(by) == len(runs) == 6
    assert all(r.out == os.path.join(str(tmp_path), r.name) and r.supports_resume for r in runs)
    assert deps[0].argv(vae_path="v.npz")[-2:] == ["--vae", "v.npz"]


def test_plan_requested_provider_is_not_duplicated(tmp_path):
    runs = plan(["dep", "consolidation"], ["tiny"], [0], ["dep:vae_preset=tiny"], str(tmp_path), REG)
    assert [r.name for r in runs][0] == "consolidation-tiny-seed0"
    assert runs[0].role == "requested" and len(runs) == 2 and runs[1].needs == runs[0].name


def test_plan_real_registry_shares_the_consolidated_vae(tmp_path):
    runs = plan(["extended", "boundary"], ["tiny"], [3], [], str(tmp_path))
    assert [(r.name, r.role) for r in runs][0] == ("consolidation-tiny-seed3", "vae")
    assert [r.needs for r in runs[1:]] == ["consolidation-tiny-seed3"] * 2
    assert runs[0].supports_resume and not runs[1].supports_resume  # consolidation has --resume, extended not


@pytest.mark.parametrize("kwargs, match", [
    (dict(experiments=["nope"]), "unknown experiment 'nope'"),
    (dict(presets=["huge"]), "no preset 'huge'"),
    (dict(overrides=["no_such_field=1"]), "no experiment of this sweep"),
    (dict(overrides=["value=abc"]), "expected a number"),
    (dict(overrides=["other:value=1"]), "'other' is not an experiment of this sweep"),
    (dict(overrides=["seed=3"]), "--seeds"),
    (dict(overrides=["value"]), "key=value"),
    (dict(seeds=[]), "at least one"),
    (dict(overrides=["dep:vae_preset=huge"], experiments=["dep"]), "vae_preset 'huge'"),
])
def test_plan_bad_input(tmp_path, kwargs, match):
    args = dict(experiments=["null"], presets=["tiny"], seeds=[0], overrides=[], out=str(tmp_path), registry=REG)
    args.update(kwargs)
    with pytest.raises(SweepError, match=match):
        plan(**args)


@pytest.mark.parametrize("argv, match", [
    (["nope"], "unknown experiment 'nope'"),
    (["null", "--seeds", "3-1"], "bad seed range '3-1'"),
    (["null", "--seeds", "a"], "bad seeds 'a'"),
    (["null", "--workers", "0"], "--workers must be >= 1"),
    (["null", "--executor", "processes", "--scheduler", "tcp://x:1"], "--scheduler needs --executor dask"),
])
def test_cli_bad_input_is_one_line_exit_2(tmp_path, capsys, argv, match):
    assert sweep_main(argv + ["--out", str(tmp_path / "s")], registry=REG) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("refmem sweep: error:") and match in err and "\n" not in err
    assert not (tmp_path / "s").exists()


def test_top_level_cli_unknown_experiment(tmp_path, capsys):
    from refmem.cli import main

    assert main(["sweep", "nope", "--out", str(tmp_path)]) == 2
    assert "unknown experiment 'nope'" in capsys.readouterr().err


def test_missing_dask_extra_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "dask", None)
    monkeypatch.setitem(sys.modules, "dask.distributed", None)
    assert sweep_main(["null", "--executor", "dask", "--out", str(tmp_path), "--quiet"], registry=REG) == 1
    err = capsys.readouterr().err.strip()
    assert "pip install 'refmem[dask]'" in err and "\n" not in err


# --- skip, resume, failure, shared VAE ---------------------------------------------------------

def test_finished_runs_are_skipped(tmp_path):
    runs = plan(["null"], ["tiny"], [0, 1], [], str(tmp_path), REG)
    first = _execute(runs)
    assert [first[r.name]["status"] for r in runs] == ["done", "done"]
    assert [first[r.name]["action"] for r in runs] == ["new", "new"]
    assert _results(runs[1])["criteria"][0]["value"] == 1.5  # value + slope * seed
    before = os.path.getmtime(os.path.join(runs[0].out, "results.json"))
    again = _execute(runs)
    assert [again[r.name]["status"] for r in runs] == ["skipped", "skipped"]
    assert os.path.getmtime(os.path.join(runs[0].out, "results.json")) == before
    assert run_state(runs[0]) == "finished"


def test_folder_with_another_config_is_refused(tmp_path):
    runs = plan(["null"], ["tiny"], [0], [], str(tmp_path), REG)
    _execute(runs)
    res = _results(runs[0])
    res["config"]["value"] = 7.0
    with open(os.path.join(runs[0].out, "results.json"), "w") as fh:
        json.dump(res, fh)
    with pytest.raises(SweepError, match="another config"):
        plan(["null"], ["tiny"], [0], [], str(tmp_path), REG)


def _rewrite_config(run, edit):
    res = _results(run)
    edit(res["config"])
    with open(os.path.join(run.out, "results.json"), "w") as fh:
        json.dump(res, fh)


def test_run_recorded_before_a_config_field_existed_is_the_same_run(tmp_path):
    runs = plan(["null"], ["tiny"], [0], [], str(tmp_path), REG)
    _execute(runs)
    _rewrite_config(runs[0], lambda c: c.pop("sleep_s"))  # the field at its default: same run
    assert run_state(plan(["null"], ["tiny"], [0], [], str(tmp_path), REG)[0]) == "finished"
    _rewrite_config(runs[0], lambda c: c.pop("value"))  # read as its default, 1.0 ...
    assert run_state(runs[0]) == "finished"
    with pytest.raises(SweepError, match="another config"):  # ... which is not a run with 2.0
        run_state(dataclasses.replace(runs[0], config=dict(runs[0].config, value=2.0)))
    _rewrite_config(runs[0], lambda c: c.update(unknown_field=1))  # a field the config lacks
    with pytest.raises(SweepError, match="another config"):
        plan(["null"], ["tiny"], [0], [], str(tmp_path), REG)


def test_interrupted_run_is_resumed_or_restarted(tmp_path):
    runs = plan(["null"], ["tiny"], [0, 1], [], str(tmp_path), REG)
    for r in runs:  # what an interrupted run leaves: a folder with its config, no results
        os.makedirs(r.out)
        with open(os.path.join(r.out, "config.json"), "w") as fh:
            json.dump(r.config, fh)
    assert [run_state(r) for r in runs] == ["interrupted", "interrupted"]
    no_resume = dataclasses.replace(runs[1], supports_resume=False)
    out = _execute([runs[0], no_resume])
    assert out[runs[0].name]["action"] == "resume" and _results(runs[0])["resumed"] is True
    assert out[runs[1].name]["action"] == "restart" and _results(runs[1])["resumed"] is False
    assert "--resume" in open(os.path.join(runs[0].out, "run.log")).read()


def test_a_failing_run_is_isolated(tmp_path):
    runs = plan(["null"], ["tiny"], [0, 1, 2], ["fail_seed=1"], str(tmp_path), REG)
    out = _execute(runs)
    assert [out[r.name]["status"] for r in runs] == ["done", "failed", "done"]
    bad = out[runs[1].name]
    assert bad["error"] == "RuntimeError: failing on purpose for seed 1 (fail_seed)"
    log = open(bad["log"]).read()
    assert bad["log"] == os.path.join(runs[1].out, "run.log") and "Traceback" in log


def test_run_whose_folder_cannot_be_written_fails_alone(tmp_path):
    runs = plan(["null"], ["tiny"], [0, 1], [], str(tmp_path), REG)
    with open(runs[0].out, "w") as fh:  # a file where the run's folder should be
        fh.write("not a folder")
    out = _execute(runs)
    bad = out[runs[0].name]
    assert bad["status"] == "failed" and bad["log"] is None
    assert bad["error"] == f"cannot write its folder {runs[0].out}: a file of that name is in the way"
    assert out[runs[1].name]["status"] == "done"


def test_bad_value_found_by_the_experiment_fails_its_run(tmp_path):
    runs = plan(["null"], ["tiny"], [0], ["sleep_s=-1"], str(tmp_path), REG)
    out = _execute(runs)[runs[0].name]
    assert out["status"] == "failed" and out["rc"] == 2 and "sleep_s must be >= 0" in out["error"]


def test_run_without_results_is_failed_with_a_reason(tmp_path):
    runs = plan(["null"], ["tiny"], [0], ["stop_seed=0"], str(tmp_path), REG)
    out = _execute(runs)[runs[0].name]
    assert out["status"] == "failed" and out["error"] == "exited with status 0 without writing results.json"
    assert run_state(runs[0]) == "interrupted"


def test_shared_vae_is_trained_once_before_its_dependants(tmp_path):
    runs = plan(["dep"], ["tiny"], [0, 1], ["dep:vae_preset=tiny"], str(tmp_path), REG)
    out = _execute(runs)
    assert all(o["status"] == "done" for o in out.values())
    for r in runs:
        if r.role == "vae":
            assert open(os.path.join(r.out, "run.log")).read().count("=== refmem sweep") == 1
            continue
        provider = next(p for p in runs if p.name == r.needs)
        res = _results(r)
        assert res["vae_path"] == os.path.join(provider.out, "vae.npz")
        assert res["started"] >= _results(provider)["finished"]
    assert all(o["status"] == "skipped" for o in _execute(runs).values())


def test_dependants_of_a_failed_vae_run_are_not_run(tmp_path, monkeypatch):
    from refmem.sweep import null

    monkeypatch.setitem(null.CONFIGS, "tiny", dataclasses.replace(null.CONFIGS["tiny"], fail_seed=0))
    runs = plan(["dep"], ["tiny"], [0, 1], ["dep:vae_preset=tiny", "dep:fail_seed=-1"], str(tmp_path), REG)
    out = _execute(runs)
    dep0 = next(r for r in runs if r.experiment == "dep" and r.seed == 0)
    assert out["consolidation-tiny-seed0"]["status"] == "failed"
    assert out[dep0.name]["status"] == "failed" and "consolidation-tiny-seed0, failed" in out[dep0.name]["error"]
    assert not os.path.exists(dep0.out)
    assert sum(o["status"] == "done" for o in out.values()) == 2


def test_cli_reports_failures_and_keeps_going(tmp_path, capsys):
    out = tmp_path / "s"
    rc = sweep_main(["null", "--config", "tiny", "--seeds", "0-2", "--set", "fail_seed=2", "--workers", "1",
                     "--out", str(out)], registry=REG)
    text = capsys.readouterr().out
    assert rc == 1
    assert text.count("] null-tiny-seed") == 3 and "ETA" in text
    summary = json.loads((out / "summary.json").read_text())
    assert summary["counts"] == {"done": 2, "skipped": 0, "failed": 1}
    md = (out / "summary.md").read_text()
    assert "RuntimeError: failing on purpose for seed 2" in md
    crit = summary["groups"][0]["criteria"][0]
    assert crit["n"] == 2 and crit["values"] == [1.0, 1.5]


# --- executors -----------------------------------------------------------------------------------

def test_process_pool_sets_blas_threads_before_numpy(tmp_path):
    saved = {v: os.environ.get(v) for v in THREAD_VARS}
    runs = plan(["null"], ["tiny"], [0, 1, 2, 3], [], str(tmp_path), REG)
    with open_executor("processes", workers=2, threads=1) as (ex, desc, n):
        assert os.environ["OPENBLAS_NUM_THREADS"] == "1" and n == 2
        out = execute(runs, ex, workers=n, say=lambda s: None)
    assert {v: os.environ.get(v) for v in THREAD_VARS} == saved
    assert all(o["status"] == "done" and o["blas_threads"] == "1" for o in out.values())
    assert {_results(r)["blas_threads"] for r in runs} == {"1"}
    assert len({o["pid"] for o in out.values()} - {os.getpid()}) in (1, 2)


@pytest.mark.skipif(not hasattr(os, "killpg"), reason="needs POSIX process groups")
def test_ctrl_c_stops_the_sweep_and_its_runs(tmp_path):
    import signal
    import subprocess
    import time

    out = tmp_path / "s"
    code = ("import signal, sys; from refmem.sweep.cli import main; "
            "signal.signal(signal.SIGINT, signal.default_int_handler); "  # as in a terminal, whatever the parent's
            f"sys.exit(main(['null', '--config', 'tiny', '--seeds', '0-3', '--set', 'sleep_s=60', "
            f"'--workers', '2', '--quiet', '--out', {str(out)!r}], registry={{'null': {NULL!r}}}))")
    proc = subprocess.Popen([sys.executable, "-c", code], start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    started = lambda: sorted(p.parent.name.split("-")[2] for p in out.glob("null-tiny-seed*/config.json"))  # noqa: E731
    deadline = time.monotonic() + 60
    while started() != ["seed0", "seed1"] and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.1)
    assert started() == ["seed0", "seed1"], proc.communicate(timeout=5)
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C in a terminal: the whole process group
    try:
        rc = proc.wait(timeout=30)  # not the 60 s of the runs, nor a hang
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        raise AssertionError("the sweep did not stop after Ctrl-C")
    assert rc == 130 and "interrupted" in proc.stderr.read().decode()
    assert not list(out.glob("*/results.json"))  # the two runs count as interrupted ...
    assert started() == ["seed0", "seed1"]  # ... and no other run started after Ctrl-C


def test_real_tiny_sweep_on_processes(tmp_path):
    from refmem.cli import main

    out = tmp_path / "sw"
    assert main(["sweep", "consolidation", "extended", "--config", "tiny", "--seeds", "0", "--workers", "2",
                 "--out", str(out), "--quiet"]) == 0
    ext = json.loads((out / "extended-tiny-seed0" / "results.json").read_text())
    assert ext["vae"]["path"] == str(out / "consolidation-tiny-seed0" / "vae.npz")
    summary = json.loads((out / "summary.json").read_text())
    assert summary["counts"]["done"] == 2 and summary["figures"] == ["figures/consolidation-tiny-curves.png"]
    assert (out / summary["figures"][0]).stat().st_size > 0


def test_dask_local_cluster(tmp_path):
    pytest.importorskip("dask.distributed")
    out = tmp_path / "s"
    assert sweep_main(["null", "--config", "tiny", "--seeds", "0-2", "--executor", "dask", "--workers", "1",
                       "--out", str(out), "--quiet"], registry=REG) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["counts"]["done"] == 3 and "LocalCluster" in summary["executor"]
    assert summary["groups"][0]["criteria"][0]["values"] == [1.0, 1.5, 2.0]


def test_real_tiny_sweep_on_a_dask_local_cluster(tmp_path):
    pytest.importorskip("dask.distributed")
    from refmem.cli import main

    out = tmp_path / "sw"
    assert main(["sweep", "consolidation", "extended", "--config", "tiny", "--seeds", "0", "--executor", "dask",
                 "--workers", "2", "--out", str(out), "--quiet"]) == 0
    ext = json.loads((out / "extended-tiny-seed0" / "results.json").read_text())
    assert ext["vae"]["path"] == str(out / "consolidation-tiny-seed0" / "vae.npz")  # the shared VAE, trained once
    summary = json.loads((out / "summary.json").read_text())
    assert summary["counts"]["done"] == 2 and "LocalCluster" in summary["executor"]


def test_dask_unreachable_scheduler(tmp_path, capsys):
    pytest.importorskip("dask.distributed")
    rc = sweep_main(["null", "--scheduler", "tcp://127.0.0.1:9", "--timeout", "1", "--out", str(tmp_path / "s")],
                    registry=REG)
    err = capsys.readouterr().err.strip()
    assert rc == 1 and "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in err and "\n" not in err


def test_sweep_records_paths_relative_to_its_folder(tmp_path):
    out = tmp_path / "sweep"
    assert sweep_main(["null", "--config", "tiny", "--seeds", "0-1", "--workers", "1", "--out", str(out), "--quiet"],
                      registry=REG) == 0
    for name in ("summary.json", "sweep.json"):
        rec = json.loads((out / name).read_text())
        assert str(out) in rec.pop("command")  # the command line as typed
        assert str(tmp_path) not in json.dumps(rec), name
    runs = json.loads((out / "summary.json").read_text())["runs"]
    assert {r["out"] for r in runs} == {"null-tiny-seed0", "null-tiny-seed1"}
    assert all(os.path.isfile(out / r["log"]) for r in runs)


def test_the_summary_gives_finished_runs_their_recorded_time(tmp_path):
    argv = ["null", "--config", "tiny", "--seeds", "0-1", "--workers", "1", "--out", str(tmp_path), "--quiet"]
    assert sweep_main(argv, registry=REG) == 0
    first = {r["name"]: r["seconds"] for r in json.loads((tmp_path / "summary.json").read_text())["runs"]}
    assert sweep_main(argv, registry=REG) == 0  # every run finished before: skipped
    runs = json.loads((tmp_path / "summary.json").read_text())["runs"]
    assert [r["status"] for r in runs] == ["skipped", "skipped"]
    for r in runs:
        recorded = json.loads((tmp_path / r["out"] / "results.json").read_text())["timings"]["total_s"]
        assert r["seconds"] == pytest.approx(recorded) and 0 <= r["seconds"] <= first[r["name"]]
    assert "| - |" not in (tmp_path / "summary.md").read_text()


def test_report_only_keeps_the_sweep_and_reads_verdicts_afresh(tmp_path):
    argv = ["null", "--config", "tiny", "--seeds", "0-1", "--workers", "1", "--out", str(tmp_path), "--quiet"]
    assert sweep_main(argv, registry=REG) == 0
    first = json.loads((tmp_path / "summary.json").read_text())
    path = tmp_path / "null-tiny-seed1" / "results.json"  # the run judged again: its one criterion fails now
    res = json.loads(path.read_text())
    res["criteria"][0]["passed"] = False
    path.write_text(json.dumps(res))
    assert sweep_main(argv + ["--report-only"], registry=REG) == 0
    again = json.loads((tmp_path / "summary.json").read_text())
    for key in ("command", "executor", "started", "wall_s"):
        assert again[key] == first[key], key
    assert again["rebuilt"]["command"].endswith("--report-only")
    assert [(r["status"], r["seconds"]) for r in again["runs"]] == [(r["status"], r["seconds"]) for r in first["runs"]]
    assert [r["passed"] for r in first["runs"]] == [1, 1] and [r["passed"] for r in again["runs"]] == [1, 0]
    assert "summary rebuilt from the runs' results" in (tmp_path / "summary.md").read_text()


def test_report_only_without_an_earlier_summary(tmp_path):
    argv = ["null", "--config", "tiny", "--seeds", "0", "--workers", "1", "--out", str(tmp_path), "--quiet"]
    assert sweep_main(argv, registry=REG) == 0
    os.remove(tmp_path / "summary.json")
    assert sweep_main(argv + ["--report-only"], registry=REG) == 0
    rec = json.loads((tmp_path / "summary.json").read_text())
    assert rec["executor"] == "none (report only)" and "rebuilt" not in rec
    assert rec["runs"][0]["status"] == "skipped" and rec["runs"][0]["passed"] == 1


@pytest.mark.parametrize("damage", ["not json", '{"command": "x", "runs": null}', '[1, 2]',
                                    '{"command": "x", "runs": [{"name": ["a"]}, 3]}'])
def test_report_only_ignores_a_damaged_summary(tmp_path, damage):
    argv = ["null", "--config", "tiny", "--seeds", "0", "--workers", "1", "--out", str(tmp_path), "--quiet"]
    assert sweep_main(argv, registry=REG) == 0
    (tmp_path / "summary.json").write_text(damage)
    assert sweep_main(argv + ["--report-only"], registry=REG) == 0
    rec = json.loads((tmp_path / "summary.json").read_text())
    assert rec["runs"][0]["status"] == "skipped" and rec["runs"][0]["passed"] == 1


def test_report_only_of_another_sweep_keeps_nothing_of_it(tmp_path):
    argv = ["null", "--config", "tiny", "--seeds", "0-1", "--workers", "1", "--out", str(tmp_path), "--quiet"]
    assert sweep_main(argv, registry=REG) == 0
    assert sweep_main(argv[:4] + ["0"] + argv[5:] + ["--report-only"], registry=REG) == 0  # seed 0 only
    rec = json.loads((tmp_path / "summary.json").read_text())
    assert rec["executor"] == "none (report only)" and "rebuilt" not in rec and len(rec["runs"]) == 1
