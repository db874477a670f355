#!/bin/sh
# Interleave the three frameworks' training steps, ROUNDS times, each in a fresh process.
# usage: interleave.sh THREADS ROUNDS [TF_PYTHON]   (TF_PYTHON: the python of a throwaway
# environment with tensorflow-cpu; torch must be importable by `python`)
T=$1; R=$2; TFPY=${3:-python}; D=$(dirname "$0")
for r in $(seq "$R"); do
  OPENBLAS_NUM_THREADS=$T python "$D/step_refmem.py" "$T" 10
  OMP_NUM_THREADS=$T OPENBLAS_NUM_THREADS=$T python "$D/step_torch.py" "$T" nchw 10
  OMP_NUM_THREADS=$T OPENBLAS_NUM_THREADS=$T python "$D/step_torch.py" "$T" cl 10
  OMP_NUM_THREADS=$T OPENBLAS_NUM_THREADS=$T "$TFPY" "$D/step_tf.py" "$T" 10
done
