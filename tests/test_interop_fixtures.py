"""Conformance fixtures and `refmem crosscheck`: deterministic files, refmem passes its own
fixtures when recomputing from the inputs, and a wrong output fails with its item named."""
import json
import os

import numpy as np
import pytest

from refmem.cli import main
from refmem.interop.crosscheck import crosscheck, format_table, summary
from refmem.interop.fixtures import load_item, run_refmem, save_outputs, write_fixtures
from refmem.nn.layers import conv2d_forward


@pytest.fixture(scope="module")
def fixtures_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("fixtures")
    assert main(["fixtures", "--out", str(out)]) == 0
    return str(out)


@pytest.fixture(scope="module")
def ours_dir(fixtures_dir, tmp_path_factory):
    out = str(tmp_path_factory.mktemp("ours"))
    run_refmem(fixtures_dir, out)
    return out


def test_manifest_describes_every_item(fixtures_dir):
    with open(os.path.join(fixtures_dir, "manifest.json")) as fh:
        m = json.load(fh)
    names = [e["name"] for e in m["items"]]
    for want in ("dense", "conv2d_same_k3_s2", "conv2d_transpose_same_k3_s2", "upsample_conv2d_k3",
                 "batchnorm_as_run", "vae_shapes3d", "vae_mnist", "vae_bow", "hopfield_update",
                 "hopfield_retrieve_10", "hopfield_replay", "amsgrad", "svc_decision"):
        assert want in names
    for e in m["items"]:
        assert e["checks"] and e["outputs"] and e["inputs"] and e["tol"] > 0 and "layouts" in e
        data = np.load(os.path.join(fixtures_dir, e["file"]))
        for k, shape in {**e["inputs"], **e["outputs"]}.items():
            assert list(data[k].shape) == shape
            assert data[k].dtype in (np.float64, np.int64), (e["name"], k)
    vae = [e for e in m["items"] if e["name"] == "vae_mnist"][0]
    assert "grad/encoder.dense1.kernel" in vae["outputs"] and "param/encoder.dense1.kernel" in vae["inputs"]
    assert len([k for k in vae["outputs"] if k.startswith("grad/")]) == 20


def test_fixtures_are_deterministic(fixtures_dir, tmp_path):
    write_fixtures(tmp_path, only=["vae_mnist", "conv2d_*", "svc_decision", "hopfield_*"])
    for name in os.listdir(tmp_path):
        if name.endswith(".npz"):
            with open(tmp_path / name, "rb") as a, open(os.path.join(fixtures_dir, name), "rb") as b:
                assert a.read() == b.read(), name


def test_refmem_passes_its_own_fixtures(fixtures_dir, ours_dir):
    rows = crosscheck(fixtures_dir, ours_dir)
    s = summary(rows)
    assert s["FAIL"] == 0 and s["PASS"] == len(rows) > 100
    assert main(["crosscheck", fixtures_dir, ours_dir, "--failures-only"]) == 0


def test_perturbed_output_fails_with_item_named(fixtures_dir, ours_dir, tmp_path, capsys):
    theirs = tmp_path / "theirs"
    run_refmem(fixtures_dir, theirs, only=["vae_mnist", "amsgrad"])
    path = theirs / "vae_mnist.npz"
    data = dict(np.load(path))
    data["grad/decoder.convt2.kernel"] = data["grad/decoder.convt2.kernel"] * (1 + 1e-6)
    save_outputs(path, data)
    rows = crosscheck(fixtures_dir, str(theirs), only=["vae_mnist", "amsgrad"])
    assert summary(rows)["failed"] == ["vae_mnist:grad/decoder.convt2.kernel"]
    assert main(["crosscheck", fixtures_dir, str(theirs), "--only", "vae_mnist", "amsgrad"]) == 1
    out = capsys.readouterr().out
    assert "vae_mnist:grad/decoder.convt2.kernel" in out and "FAILED" in out
    # the same error passes a float32-level tolerance
    assert main(["crosscheck", fixtures_dir, str(theirs), "--only", "vae_mnist", "--tol", "1e-4"]) == 0


def test_missing_and_malformed_outputs_fail(fixtures_dir, tmp_path):
    rows = crosscheck(fixtures_dir, str(tmp_path), only=["dense"])
    assert [r.status for r in rows] == ["FAIL"] and rows[0].note == "no file"
    rows = crosscheck(fixtures_dir, str(tmp_path), only=["dense"], allow_missing=True)
    assert [r.status for r in rows] == ["SKIP"]
    inputs, expected, _ = load_item(fixtures_dir, "dense")
    save_outputs(tmp_path / "dense.npz", {"y": expected["y"].T, "dx": expected["dx"] * np.nan,
                                          "d_kernel": expected["d_kernel"]})
    rows = {r.item: r for r in crosscheck(fixtures_dir, str(tmp_path), only=["dense"])}
    assert rows["dense:y"].status == "FAIL" and "shape" in rows["dense:y"].note
    assert rows["dense:dx"].status == "FAIL" and "non-finite" in rows["dense:dx"].note
    assert rows["dense:d_kernel"].status == "PASS"
    assert rows["dense:d_bias"].status == "FAIL" and rows["dense:d_bias"].note == "array missing"
    assert "dense:d_bias" in format_table(list(rows.values()))


def test_symmetric_padding_port_is_caught(fixtures_dir, tmp_path):
    """A port padding 'same' stride-2 convolutions symmetrically (PyTorch padding=1)
    instead of Keras's (0, 1) gets the right shape and wrong values."""
    inputs, expected, _ = load_item(fixtures_dir, "conv2d_same_k3_s2")
    xp = np.pad(inputs["x"], ((0, 0), (1, 1), (1, 1), (0, 0)))
    y, _ = conv2d_forward(xp, inputs["kernel"], inputs["bias"], strides=2, padding="valid")
    assert y.shape == expected["y"].shape
    save_outputs(tmp_path / "conv2d_same_k3_s2.npz", {**expected, "y": y})
    rows = crosscheck(fixtures_dir, str(tmp_path), only=["conv2d_same_k3_s2"])
    assert summary(rows)["failed"] == ["conv2d_same_k3_s2:y"]


def test_cli_errors(tmp_path, capsys):
    assert main(["crosscheck", str(tmp_path), str(tmp_path)]) == 2
    assert "manifest.json" in capsys.readouterr().out
    assert main(["fixtures", "--out", str(tmp_path), "--only", "nothing*"]) == 2
    assert main(["fixtures", "--out", str(tmp_path), "--list"]) == 0
    assert "vae_shapes3d" in capsys.readouterr().out


def test_manifest_layouts(fixtures_dir):
    with open(os.path.join(fixtures_dir, "manifest.json")) as fh:
        items = {e["name"]: e for e in json.load(fh)["items"]}
    assert items["conv2d_transpose_same_k3_s2"]["layouts"]["kernel"] == "(kh, kw, out, in)"
    assert items["conv2d_same_k3_s2"]["layouts"] == {"x": "NHWC", "kernel": "(kh, kw, in, out)", "dy": "NHWC",
                                                     "y": "NHWC", "dx": "NHWC", "d_kernel": "(kh, kw, in, out)"}
    lay = items["vae_mnist"]["layouts"]
    assert lay["param/decoder.convt1.kernel"] == "(kh, kw, out, in)" and lay["x_hat"] == "NHWC"
    assert lay["grad/encoder.dense1.kernel"] == "(in, out)"
