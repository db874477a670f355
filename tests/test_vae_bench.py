"""Tests of the `refmem bench vae` benchmark module (FLOP count and a tiny run, not speed)."""
import json

from refmem.benchmarks import vae as bench
from refmem.neocortex import mnist_vae, shapes3d_vae


def test_forward_flops_match_hand_count():
    # 2 * Ho*Wo*kh*kw*Cin*Cout per conv (decoder convs at the upsampled resolution)
    enc = (31 * 31 * 16 * 3 * 32 + 14 * 14 * 16 * 32 * 64 + 6 * 6 * 16 * 64 * 128
           + 2 * 2 * 16 * 128 * 256 + 2 * 256 * 20) * 2
    dec = (20 * 4096 + 3 * (64 * 9 * 256 * 128) + 4096 * 9 * 32 * 3) * 2
    vae = shapes3d_vae(rng=0)
    assert bench.forward_flops(vae) == enc + dec == 149_937_152
    assert abs(3 * bench.forward_flops(vae) / 1e6 - 450) < 1  # ~450 MFLOP per image per step
    assert bench.forward_flops(shapes3d_vae(rng=0, fused_upsample=False)) == enc + dec
    assert bench.forward_flops(mnist_vae(rng=0)) > 0
    # executed: the decoder's transposed-convolution form, 16 taps per low-resolution pixel
    dec_exec = (20 * 4096 + 16 * (16 * 256 * 128 + 64 * 128 * 64 + 256 * 64 * 32 + 1024 * 32 * 3)) * 2
    assert bench.forward_flops(vae, executed=True) == enc + dec_exec
    assert abs(3 * bench.forward_flops(vae, executed=True) / 1e6 - 249) < 1


def test_bench_main_tiny_run_writes_json(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert bench.main(["--batch", "2", "--rounds", "2", "--steps", "1", "--warmup", "0",
                       "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "images/s" in text and "of float32 matmul" in text and "executed" in text
    assert "encoder.conv1+bn1 forward" in text  # the batch norm is folded into the conv
    res = json.loads(out.read_text())
    for key in ("images_per_s", "gflops", "fraction_of_matmul", "matmul_gflops_float32", "machine",
                "breakdown_seconds", "fraction_of_matmul_executed", "cpu_fraction_of_matmul",
                "cpu_fraction_of_matmul_executed"):
        assert key in res
    assert 0 < res["fraction_of_matmul_executed"] < res["fraction_of_matmul"]
    assert res["batch"] == 2 and res["images_per_s"] > 0
    assert "optimizer step" in res["breakdown_seconds"]
