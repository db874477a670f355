"""refmem's Shapes3D VAE training step (refmem.benchmarks.vae), batch 32 float32.

Usage: python step_refmem.py THREADS STEPS (set OPENBLAS_NUM_THREADS=THREADS)."""
import sys, json, os
threads, steps = int(sys.argv[1]), int(sys.argv[2])
from refmem.benchmarks.vae import run
r = run(rounds=steps // 2, steps=2, breakdown=False)
print(json.dumps({"impl": "refmem", "img_s": r["images_per_s"], "matmul_gflops": r["matmul_gflops_float32"],
                  "fraction_nominal": r["fraction_of_matmul"], "fraction_executed": r["fraction_of_matmul_executed"]}))
