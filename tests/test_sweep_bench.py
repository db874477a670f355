"""refmem bench sweep: the overhead per run counts every worker's time not spent in a run."""
from refmem.benchmarks.sweep import NULL_REGISTRY, _sweep


def test_overhead_per_run_is_worker_time_outside_the_runs(tmp_path):
    argv = ["null", "--config", "tiny", "--seeds", "0-3", "--set", "sleep_s=0.3"]
    for w in (1, 2):
        r = _sweep(argv + ["--workers", str(w), "--threads", "1"], str(tmp_path / f"w{w}"), NULL_REGISTRY, workers=w)
        assert r["runs"] == 4 and r["inside_s"] >= 4 * 0.3
        assert r["overhead_per_run_s"] == (w * r["wall_s"] - r["inside_s"]) / 4
        assert 0 <= r["overhead_per_run_s"] < 5  # two workers in parallel: never negative
