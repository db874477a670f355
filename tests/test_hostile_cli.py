"""The command line under wrong flags, damaged files and unwritable folders: one line on
stderr, exit status 2 for a wrong command line and 1 for a runtime failure, never a
traceback. Every case runs in-process (``refmem.cli.main``); a handful also run as
``python -m refmem`` subprocesses (all of them under the ``slow`` marker)."""
import os
import subprocess
import sys

import pytest

from refmem.cli import main

VAE_EXPERIMENTS = ("extended", "prototypes", "boundary", "carmichael")
RESUMABLE = ("consolidation", "lesion", "novelty", "drm")
ALL = ("consolidation", "extended", "prototypes", "boundary", "carmichael", "drm", "lesion", "hybrid", "novelty")

#: a size that does not fit the data, for every experiment
MISFITS = {"consolidation": ["e4_k=100", "e8_sizes=[1000]", "e7_top=1000", "e2_n=1000", "probe_train=1"],
           "extended": ["thresholds=[0.1]", "n_items=1000000"], "prototypes": ["n_per_class=600"],
           "boundary": ["n_control=1000", "zoom_levels=[1,100,120]"], "carmichael": ["probe_fit=1"],
           "drm": ["corpus.min_df=0.5"], "lesion": ["n_probe=100000"], "hybrid": ["n_test=1000", "probe_train=1"],
           "novelty": ["digits_train=100000"]}


def _cases():
    """(id, argv with placeholders, expected status, text expected in stderr)."""
    c = [("list", ["list"], 0, ""), ("run-no-name", ["run"], 2, ""), ("run-unknown", ["run", "nope"], 2, "unknown"),
         ("bench-unknown", ["bench", "nope"], 2, "unknown"),
         ("bench-bad-size", ["bench", "hopfield", "-N", "-5"], 2, ""),
         ("crosscheck-missing", ["crosscheck", "{missing}", "{missing}"], 2, None),  # its errors go to stdout
         ("fixtures-out-file", ["fixtures", "--out", "{file}", "--only", "dense"], 1, "{file}"),
         ("diverged", ["run", "consolidation", "--config", "tiny", "--quiet", "--out", "{new}", "--set", "lr=1e300"],
          1, "training diverged at epoch 1, step")]
    for e in ALL:
        tiny, vae = ["run", e, "--config", "tiny"], (["--vae", "{vae}"] if e in VAE_EXPERIMENTS else [])
        c += [(f"{e}-unknown-key", tiny + ["--set", "nope=1"], 2, "nope"),
              (f"{e}-bad-value", tiny + ["--set", "seed=abc"], 2, "seed"),
              (f"{e}-bad-preset", ["run", e, "--config", "huge"], 2, "invalid choice"),
              (f"{e}-out-file", tiny + ["--out", "{file}"] + vae, 2, "is a file"),
              (f"{e}-out-unwritable", tiny + ["--quiet", "--out", "{file}/sub"] + vae, 1, "{file}")]
        c += [(f"{e}-misfit-{i}", tiny + ["--set", s, "--out", "{new}"], 2, s.split("=")[0].split(".")[-1])
              for i, s in enumerate(MISFITS[e])]
        if e in RESUMABLE:
            c += [(f"{e}-resume-missing", tiny + ["--resume", "--out", "{missing}"], 2, "--resume"),
                  (f"{e}-resume-empty", tiny + ["--resume", "--out", "{empty}"], 2, "empty")]
        if e in VAE_EXPERIMENTS + ("drm", "consolidation"):
            c += [(f"{e}-vae-missing", tiny + ["--vae", "{missing}"], 2, "missing"),
                  (f"{e}-vae-damaged", tiny + ["--quiet", "--out", "{new}", "--vae", "{damaged}"], 1, "damaged.npz")]
    return c


CASES = _cases()
#: the cases also run as subprocesses in the fast set
SUBPROCESS = ["consolidation-misfit-0", "extended-vae-damaged", "novelty-resume-empty", "diverged"]


@pytest.fixture
def places(tmp_path, small_shapes3d_vae_path, monkeypatch):
    monkeypatch.setenv("REFMEM_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "file").write_text("a file")
    (tmp_path / "empty").mkdir()
    (tmp_path / "damaged.npz").write_bytes(b"PK\x03\x04 not really a zip")
    return {"file": str(tmp_path / "file"), "empty": str(tmp_path / "empty"), "missing": str(tmp_path / "missing"),
            "new": str(tmp_path / "new"), "damaged": str(tmp_path / "damaged.npz"), "vae": small_shapes3d_vae_path}


def _fill(argv, places):
    return [a.format(**places) for a in argv]


def _assert_clean(code, err, expected, text, places):
    assert "Traceback" not in err
    assert code == expected, err
    if expected and text is not None:
        lines = [ln for ln in err.strip().splitlines() if ": warning: " not in ln]
        assert lines and "error" in lines[-1], err
        if not lines[0].startswith("usage:"):
            assert len(lines) == 1, err  # one line
        assert text.format(**places) in err


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_cli_in_process(case, places, capsys):
    _, argv, expected, text = case
    try:
        code = main(_fill(argv, places))
    except SystemExit as exc:  # argparse
        code = exc.code if isinstance(exc.code, int) else 1
    _assert_clean(code, capsys.readouterr().err, expected, text, places)


def _subprocess(argv, places):
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", REFMEM_CACHE_DIR=os.environ["REFMEM_CACHE_DIR"])
    return subprocess.Popen([sys.executable, "-m", "refmem", *_fill(argv, places)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def _run_all(cases, places):
    procs = [(c, _subprocess(c[1], places)) for c in cases]  # all at once: each mostly waits on imports
    for (_, _, expected, text), p in procs:
        _, err = p.communicate(timeout=300)
        _assert_clean(p.returncode, err, expected, text, places)


def test_cli_subprocess(places):
    _run_all([c for c in CASES if c[0] in SUBPROCESS], places)


@pytest.mark.slow
def test_cli_subprocess_every_case(places):
    for i in range(0, len(CASES), 4):
        _run_all(CASES[i:i + 4], places)


def test_unwritable_cache_falls_back_to_no_cache(places, monkeypatch, capsys):
    """``$REFMEM_CACHE_DIR`` that cannot be created: the VAE is trained without caching it."""
    monkeypatch.setenv("REFMEM_CACHE_DIR", os.path.join(places["file"], "cache"))
    code = main(["run", "extended", "--config", "tiny", "--quiet", "--out", places["new"], "--set", "n_items=3"])
    err = capsys.readouterr().err
    assert code == 0 and "Traceback" not in err
    assert "warning: cannot write to the cache" in err
    assert os.path.isfile(os.path.join(places["new"], "results.json"))
