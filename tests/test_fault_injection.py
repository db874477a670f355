"""Killing a run at any moment loses nothing: ``--resume`` reproduces the uninterrupted
weights bit for bit.

A ``tiny`` consolidation run (``python -m refmem``, one BLAS thread) is SIGKILLed at
several points -- after the replays are cached, after the first epoch's checkpoint, after
the model is saved (and, in the ``slow`` set, as soon as its config is written and at
random moments) -- and resumed; its ``vae.npz`` must equal that of an uninterrupted run.
A damaged latest checkpoint falls back to the previous one with the same result (``slow``;
the fallback itself is tested in ``test_hostile_files.py``).
"""
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from refmem._errors import RefmemWarning
from refmem._utils import load_npz

#: kill point -> the file whose appearance triggers the kill
KILL_AT = {"config": "config.json", "replay": "replay.npz", "epoch1": "checkpoint.npz", "model": "vae.npz"}


def _start(out, cache, *extra):
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", REFMEM_CACHE_DIR=cache)
    return subprocess.Popen([sys.executable, "-m", "refmem", "run", "consolidation", "--config", "tiny", "--quiet",
                             "--out", out, *extra], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)


def _kill_when(proc, path, timeout=300.0):
    t0 = time.monotonic()
    while not os.path.exists(path):
        if proc.poll() is not None or time.monotonic() - t0 > timeout:
            return False  # finished (or stuck) before the point
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return True


def _weights(out):
    return load_npz(os.path.join(out, "vae.npz"))


def _assert_same(a, b):
    assert sorted(a) == sorted(b)
    for k in a:
        assert a[k].dtype == b[k].dtype and np.array_equal(a[k], b[k]), k


def _finish(proc):
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 0 and "Traceback" not in err.decode(), err.decode()


def test_sigkill_then_resume_is_bit_identical(tmp_path):
    """One run killed three times, each time after resuming: after its replays are cached,
    after the first epoch's checkpoint, after the model is saved."""
    cache, out = str(tmp_path / "cache"), str(tmp_path / "run")
    ref = _start(str(tmp_path / "ref"), cache)  # the uninterrupted run, alongside
    for i, point in enumerate(("replay", "epoch1", "model")):
        p = _start(out, cache, *(["--resume"] if i else []))
        assert _kill_when(p, os.path.join(out, KILL_AT[point])), point
    for p in (ref, _start(out, cache, "--resume")):
        _finish(p)
    _assert_same(_weights(out), _weights(str(tmp_path / "ref")))
    assert not [f for f in os.listdir(out) if f.startswith(".tmp-")]


@pytest.mark.slow
def test_sigkill_at_every_point(tmp_path):
    cache = str(tmp_path / "cache")
    ref = _start(str(tmp_path / "ref"), cache)
    runs = {name: (str(tmp_path / name), _start(str(tmp_path / name), cache)) for name in KILL_AT}
    killed = {name: _kill_when(p, os.path.join(out, KILL_AT[name])) for name, (out, p) in runs.items()}
    assert killed["config"] and killed["epoch1"], killed  # these points are always reached
    resumed = [_start(out, cache, "--resume") for out, _ in runs.values()]
    for p in [ref, *resumed]:
        _finish(p)
    expected = _weights(str(tmp_path / "ref"))
    for out, _ in runs.values():
        _assert_same(_weights(out), expected)
        assert not [f for f in os.listdir(out) if f.startswith(".tmp-")]


@pytest.mark.slow
def test_damaged_latest_checkpoint_falls_back(tmp_path, monkeypatch):
    from refmem.experiments.consolidation import CONFIGS, run
    from refmem.systems.consolidation import RunInterrupted
    import dataclasses

    monkeypatch.setenv("REFMEM_CACHE_DIR", str(tmp_path / "cache"))
    cfg = dataclasses.replace(CONFIGS["tiny"], epochs=3, patience=10)
    run(cfg, str(tmp_path / "ref"), quiet=True)
    out = str(tmp_path / "run")
    with pytest.raises(RunInterrupted):
        run(cfg, out, quiet=True, stop_after_epoch=2)
    ckpt = os.path.join(out, "checkpoint.npz")
    assert os.path.exists(os.path.join(out, "checkpoint.prev.npz"))
    with open(ckpt, "r+b") as fh:
        fh.truncate(os.path.getsize(ckpt) // 2)
    with pytest.warns(RefmemWarning, match="previous checkpoint"):
        res = run(cfg, out, quiet=True, resume=True)
    assert res["epochs_trained"] == 3
    _assert_same(_weights(out), _weights(str(tmp_path / "ref")))


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(6))
def test_sigkill_at_random_moments(tmp_path, seed):
    cache = str(tmp_path / "cache")
    _finish(_start(str(tmp_path / "ref"), cache))
    out = str(tmp_path / "run")
    rng = np.random.default_rng(seed)
    for _ in range(3):  # up to three kills, each at a random moment of the (resumed) run
        p = _start(out, cache, *(["--resume"] if os.path.isdir(out) and os.listdir(out) else []))
        time.sleep(float(rng.uniform(0.5, 4.0)))
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
        p.wait()
    _finish(_start(out, cache, *(["--resume"] if os.path.isdir(out) and os.listdir(out) else [])))
    _assert_same(_weights(out), _weights(str(tmp_path / "ref")))
