"""Damaged files for every loader: truncations, bit flips, random bytes, wrong keys, object
and wrong-kind arrays. A loader either reads the file or raises one ``ValueError``
(``TypeError`` for a wrong kind of value) naming it; a cache treats damage as a miss.
"""
import io
import json
import os
import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from hostile import judge, Entry

import refmem
import refmem.datasets.digits
from refmem._utils import load_json, load_npz, save_json, save_npz
from refmem.imageio import read_png, write_png
from refmem.neocortex import load_vae
from refmem.nn.optim import Adam
from refmem.systems import consolidation as sc


def _small_vae():
    return refmem.shapes3d_vae(latent_dim=2, rng=0, widths=(2, 2, 2, 2))


def _history():
    h = sc._empty_history()
    h.update({k: [1.0] for k in sc.HISTORY_KEYS}, epochs_done=1, best_loss=1.0)
    return h


def _make_checkpoint(path):
    vae = _small_vae()
    sc.save_checkpoint(str(path), vae, Adam(vae.params, amsgrad=True), _history())


def _load_checkpoint(path):
    vae = _small_vae()
    return sc.load_checkpoint(str(path), vae, Adam(vae.params, amsgrad=True))


def _load_weights(path):
    vae = _small_vae()
    vae.load_weights(path)
    return vae.get_state()


def _png(path):
    write_png(path, np.random.default_rng(0).random((5, 7, 3)))


def _config(path):
    from refmem.experiments.consolidation.config import CONFIGS, config_json

    save_json(path, config_json(CONFIGS["tiny"]))


def _load_config(path):
    from refmem.experiments.consolidation.config import config_load

    return config_load(load_json(path))


def _keras(path):
    from refmem.interop.keras import save_keras_h5

    save_keras_h5(refmem.mnist_vae(latent_dim=2, rng=0), path)


def _load_keras(path):
    from refmem.interop.keras import load_keras_vae

    return load_keras_vae("mnist", path).get_state()


def _items(path):
    from refmem.interop.fixtures import write_fixtures

    write_fixtures(os.path.dirname(path), only=["dense"])
    os.replace(os.path.join(os.path.dirname(path), "dense.npz"), path)


#: loader name -> (file name, write a valid file, load it)
LOADERS = {
    "load_npz": ("a.npz", lambda p: save_npz(p, {"x": np.arange(300.0), "y": np.ones((4, 4), np.float32)}),
                 load_npz),
    "load_json": ("a.json", lambda p: save_json(p, {"a": [1, 2.5, None], "b": {"c": "d"}}), load_json),
    "load_vae": ("vae.npz", lambda p: _small_vae().save(p), lambda p: load_vae(p).get_state()),
    "load_weights": ("w.npz", lambda p: _small_vae().save(p), _load_weights),
    "checkpoint": ("checkpoint.npz", _make_checkpoint, _load_checkpoint),
    "digits": ("digits.npz", lambda p: save_npz(p, dict(zip(("images", "labels"), refmem.datasets.digits.load()))),
               lambda p: refmem.datasets.digits.load(p, verify=False)),
    "read_png": ("a.png", _png, read_png),
    "config": ("config.json", _config, _load_config),
    "keras_h5": ("vae.h5", _keras, _load_keras),
}


def _damage(data: bytes, kind: str, pos: int, mask: int, rng_bytes: bytes) -> bytes:
    if kind == "truncate":
        return data[:pos % max(len(data), 1)]
    if kind == "flip":
        b = bytearray(data)
        b[pos % len(b)] ^= mask
        return bytes(b)
    if kind == "random":
        return rng_bytes
    return b""


def _outcome(load, path):
    return judge(Entry("load", lambda a: load(a["path"]), {}), {"path": path})


@pytest.mark.parametrize("name", sorted(LOADERS))
@settings(max_examples=8)
@given(kind=st.sampled_from(["truncate", "flip", "random", "empty"]), pos=st.integers(0, 10 ** 6),
       mask=st.integers(1, 255), junk=st.binary(min_size=0, max_size=600))
def test_damaged_file(name, kind, pos, mask, junk, tmp_path_factory):
    if name == "keras_h5":
        pytest.importorskip("h5py")
    fname, make, load = LOADERS[name]
    path = str(tmp_path_factory.mktemp(name) / fname)
    make(path)
    good = open(path, "rb").read()
    bad = _damage(good, kind, pos, mask, junk)
    with open(path, "wb") as fh:
        fh.write(bad)
    outcome, detail = _outcome(load, path)
    assert outcome in ("ok", "clean"), detail
    harmless = bad.strip() == good.strip()  # e.g. a text file cut after its content, before the newline
    if kind in ("truncate", "empty", "random") and name != "digits" and not harmless:
        assert outcome == "clean", f"{name}: damage ({kind}) went unnoticed"


def _npz_variant(arrays, variant):
    d = dict(arrays)
    key = sorted(k for k in d if d[k].ndim >= 1)[0]
    if variant == "wrong_key":
        d[key + "_renamed"] = d.pop(key)
    elif variant == "string_array":
        d[key] = np.full(d[key].shape, "x")
    elif variant == "complex_array":
        d[key] = d[key] + 1j
    elif variant == "nan_array":
        d[key] = np.full(d[key].shape, np.nan)
    elif variant == "wrong_shape":
        d[key] = d[key].ravel()[:-1] if d[key].size > 1 else np.zeros(3)
    buf = io.BytesIO()
    if variant == "object_array":
        d[key] = np.array([None, "pickled"], dtype=object)
        np.savez(buf, **d)  # object arrays are pickled: the loaders must refuse them
    else:
        np.savez(buf, **d)
    return buf.getvalue()


@pytest.mark.parametrize("name", ["load_vae", "load_weights", "checkpoint", "digits"])
@pytest.mark.parametrize("variant", ["wrong_key", "string_array", "complex_array", "nan_array", "wrong_shape",
                                     "object_array"])
def test_npz_with_wrong_content(name, variant, tmp_path):
    fname, make, load = LOADERS[name]
    path = str(tmp_path / fname)
    make(path)
    data = _npz_variant(load_npz(path), variant)
    with open(path, "wb") as fh:
        fh.write(data)
    outcome, detail = _outcome(load, path)
    assert outcome == "clean", detail
    with pytest.raises((ValueError, TypeError), match=fname):
        load(path)


def test_checkpoint_falls_back_to_the_previous_one(tmp_path):
    from refmem._resume import load_checkpoint_npz, previous_path

    path = str(tmp_path / "checkpoint.npz")
    _make_checkpoint(path)
    _make_checkpoint(path)  # the first becomes checkpoint.prev.npz
    assert os.path.exists(previous_path(path))
    open(path, "wb").write(open(path, "rb").read()[:100])
    vae = _small_vae()
    with pytest.warns(refmem._errors.RefmemWarning, match="previous checkpoint"):
        h = load_checkpoint_npz(path, lambda d: sc._restore(d, vae, Adam(vae.params, amsgrad=True)))
    assert h["epochs_done"] == 1
    open(previous_path(path), "wb").write(b"junk")
    with pytest.raises(ValueError, match="no readable checkpoint"):
        load_checkpoint_npz(path, lambda d: sc._restore(d, vae, Adam(vae.params, amsgrad=True)))


def test_checkpoint_other_blas_threads_warns(tmp_path, monkeypatch):
    from refmem._resume import load_checkpoint_npz

    path = str(tmp_path / "checkpoint.npz")
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "3")
    _make_checkpoint(path)
    assert int(load_npz(path)["blas_threads"]) == 3
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    vae = _small_vae()
    with pytest.warns(refmem._errors.RefmemWarning, match="3 BLAS threads"):
        load_checkpoint_npz(path, lambda d: sc._restore(d, vae, Adam(vae.params, amsgrad=True)))


@pytest.mark.parametrize("damage", [b"", b"PK\x03\x04 truncated", "wrong_size", "out_of_range"])
def test_damaged_replay_cache_is_a_miss(tmp_path, damage):
    from refmem.hippocampus.replay import build_hippocampus, load_or_replay

    net = build_hippocampus(np.random.default_rng(0).random((6, 4, 4, 3)).astype(np.float32))
    path = str(tmp_path / "replay.npz")
    fresh = load_or_replay(None, net, 5, np.random.default_rng(1), 3, 2)
    if damage == "wrong_size":
        save_npz(path, {"states": fresh[0][:3], **{k: v[:3] for k, v in fresh[1].items()}})
    elif damage == "out_of_range":
        save_npz(path, {"states": fresh[0] * 5, **fresh[1]})
    else:
        open(path, "wb").write(damage)
    with pytest.warns(refmem._errors.RefmemWarning, match="replay cache"):
        states, info, cached = load_or_replay(path, net, 5, np.random.default_rng(1), 3, 2)
    assert not cached and np.array_equal(states, fresh[0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert load_or_replay(path, net, 5, np.random.default_rng(1), 3, 2)[2]  # rewritten: now a hit


def test_render_cache_damage_and_unwritable_folder(tmp_path, monkeypatch):
    from refmem.datasets import _cache, shapes3d

    monkeypatch.setenv(_cache.ENV_VAR, str(tmp_path / "cache"))
    x, _ = shapes3d.sample(3, 0, image_size=8, supersample=1)
    (f,) = (tmp_path / "cache" / "shapes3d").iterdir()
    f.write_bytes(f.read_bytes()[:50])
    assert np.array_equal(shapes3d.sample(3, 0, image_size=8, supersample=1)[0], x)  # miss: rendered again
    (tmp_path / "file").write_text("not a folder")
    monkeypatch.setenv(_cache.ENV_VAR, str(tmp_path / "file" / "cache"))
    with pytest.warns(refmem._errors.RefmemWarning, match="cannot write to the cache"):
        y, _ = shapes3d.sample(3, 0, image_size=8, supersample=1)
    assert np.array_equal(x, y)


def test_leftover_temporary_files_are_removed(tmp_path):
    from refmem._utils import remove_temp_files
    from refmem.experiments.common import prepare_out_dir

    (tmp_path / ".tmp-abc_1234results.json").write_text("{")
    (tmp_path / ".tmp-notours").write_text("x")  # not refmem's naming: kept
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / ".tmp-zzzzzzzzvae.npz").write_bytes(b"PK")
    with pytest.warns(refmem._errors.RefmemWarning, match="2 temporary"):
        prepare_out_dir(str(tmp_path))
    assert sorted(p.name for p in tmp_path.rglob(".tmp-*")) == [".tmp-notours"]
    (tmp_path / ".tmp-abcdefghx.npz").write_text("x")
    assert remove_temp_files(str(tmp_path), min_age=3600) == []  # too young for a shared folder


def test_damaged_cached_stage_vaes_are_retrained(tmp_path):
    from refmem.experiments.hybrid.run import _load_stages

    paths = {e: str(tmp_path / f"stage_{e}.npz") for e in (0, 1)}
    for p in paths.values():
        _small_vae().save(p)
    save_json(str(tmp_path / "history.json"), {"loss": [1.0]})
    assert _load_stages(paths, str(tmp_path / "history.json")) is not None
    open(paths[1], "wb").write(b"\x00" * 10)
    _make_checkpoint(str(tmp_path / "checkpoint.npz"))
    with pytest.warns(refmem._errors.RefmemWarning, match="damaged"):
        assert _load_stages(paths, str(tmp_path / "history.json")) is None
    assert not any(p.exists() for p in tmp_path.iterdir() if p.suffix in (".npz", ".json"))


def test_damaged_reused_novelty_vae_is_retrained(tmp_path):
    from refmem.experiments.novelty.run import _reload

    p = str(tmp_path / "vae_shapes.npz")
    _small_vae().save(p)
    assert _reload(_small_vae(), p)
    open(p, "wb").write(b"PK\x03\x04")
    with pytest.warns(refmem._errors.RefmemWarning, match="training this VAE again"):
        assert not _reload(_small_vae(), p)


def test_damaged_json_names_the_file(tmp_path):
    p = tmp_path / "results.json"
    p.write_bytes(b'{"a": [1, 2')
    with pytest.raises(ValueError, match="results.json"):
        load_json(p)
    p.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ValueError, match="results.json"):
        load_json(p)
    assert json.loads(json.dumps(1)) == 1


def test_temp_files_of_a_running_writer_are_kept(tmp_path):
    """A temporary file whose writer process is alive is not another run's leftover."""
    import subprocess
    import sys

    from refmem._utils import remove_temp_files

    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        (tmp_path / f".tmp-{live.pid}-abcdefghconfig.json").write_text("{")
        dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True).stdout.strip()
        (tmp_path / f".tmp-{dead}-abcdefghvae.npz").write_bytes(b"PK")
        removed = remove_temp_files(str(tmp_path))
        names = sorted(p.name for p in tmp_path.iterdir())
        if os.name == "posix":
            assert [os.path.basename(r) for r in removed] == [f".tmp-{dead}-abcdefghvae.npz"]
            assert names == [f".tmp-{live.pid}-abcdefghconfig.json"]
    finally:
        live.kill()
        live.wait()
