"""Smoke test of ``refmem bench hopfield`` at a tiny size (figures are not checked)."""
from refmem._utils import load_json
from refmem.benchmarks import hopfield as bench


def test_bench_runs_and_writes_json(tmp_path, capsys):
    path = tmp_path / "hopfield.json"
    assert bench.main(["-N", "60", "-Q", "50", "-d", "40", "--chunk-size", "16",
                       "--loop-queries", "5", "--repeat", "2", "--json", str(path)]) == 0
    res = load_json(path)
    assert res["config"]["chunk_size"] == 16 and res["config"]["n_queries"] == 50
    for key in ("gflops", "matmul_gflops", "fraction_of_matmul", "peak_extra_bytes",
                "speedup_over_loop", "seconds_per_iteration"):
        assert res[key] > 0
    assert "GFLOP/s" in capsys.readouterr().out
    assert isinstance(bench.DESCRIPTION, str) and bench.DESCRIPTION


def test_bench_update_memory_within_bound():
    # docs/hippocampus.md, "Memory": peak memory no more than patterns + queries + outputs + one score block;
    # the benchmark's bound adds the per-query info and per-chunk (C,) vectors, and
    # tracemalloc also counts a few dozen KiB of Python objects (constant, not O(Q d)).
    res = bench.run(200, 300, 2000, chunk_size=50, loop_queries=2, verbose=False)
    outputs_and_block = (300 * 2000 + 50 * 200) * 4
    assert outputs_and_block <= res["memory_bound_bytes"] <= outputs_and_block + 30_000
    assert res["peak_extra_bytes"] <= res["memory_bound_bytes"] + 64 * 1024
