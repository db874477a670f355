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
