"""Damaged files give one ValueError naming the file; the CLI prints one line, no traceback."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from refmem._utils import load_npz, save_npz
from refmem.neocortex import load_vae, shapes3d_vae


@pytest.fixture
def npz_bytes(tmp_path):
    p = tmp_path / "good.npz"
    save_npz(p, {"x": np.arange(500.0), "y": np.ones((3, 3))})
    return p.read_bytes()


@pytest.mark.parametrize("damage", ["truncate", "flip", "random", "empty", "npy"])
def test_load_npz_damage_is_one_value_error(tmp_path, npz_bytes, damage):
    p = tmp_path / "bad.npz"
    if damage == "truncate":
        p.write_bytes(npz_bytes[:len(npz_bytes) // 2])
    elif damage == "flip":
        b = bytearray(npz_bytes)
        b[120] ^= 0xFF
        p.write_bytes(bytes(b))
    elif damage == "random":
        p.write_bytes(np.random.default_rng(0).bytes(700))
    elif damage == "empty":
        p.write_bytes(b"")
    else:
        with open(p, "wb") as fh:
            np.save(fh, np.ones(4))
    with pytest.raises(ValueError, match="bad.npz"):
        load_npz(p)


def test_load_npz_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_npz(tmp_path / "none.npz")


@pytest.mark.parametrize("key,value", [("latent_dim", 10 ** 10), ("widths", [4, 4, 4, 10 ** 9])])
def test_crafted_vae_config_rejected_before_allocation(tmp_path, key, value):
    p = tmp_path / "v.npz"
    shapes3d_vae(rng=0, widths=(4, 4, 4, 4), latent_dim=3).save(p)
    d = load_npz(p)
    cfg = json.loads(str(d["config_json"]))
    cfg["model"]["kwargs"][key] = value
    d["config_json"] = np.array(json.dumps(cfg))
    save_npz(p, d)
    with pytest.raises(ValueError, match="no stored array"):
        load_vae(p)


def test_vae_with_missing_array_is_a_value_error(tmp_path):
    p = tmp_path / "v.npz"
    shapes3d_vae(rng=0, widths=(4, 4, 4, 4), latent_dim=3).save(p)
    d = load_npz(p)
    d.pop(next(k for k in d if k.startswith("param/")))
    save_npz(p, d)
    with pytest.raises(ValueError, match="v.npz"):
        load_vae(p)


def test_cli_damaged_vae_one_line(tmp_path):
    bad = tmp_path / "vae.npz"
    bad.write_bytes(b"not a zip file at all")
    r = subprocess.run([sys.executable, "-m", "refmem", "run", "extended", "--config", "tiny", "--vae", str(bad),
                        "--out", str(tmp_path / "o")], capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, OPENBLAS_NUM_THREADS="1"))
    assert r.returncode == 1
    assert "Traceback" not in r.stderr
    assert r.stderr.strip().count("\n") == 0 and "vae.npz" in r.stderr
