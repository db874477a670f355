"""docs/crosscheck.md runs as written: its reference modules are tests/torch_reference.py,
and its walk-through (shell commands and Python blocks, in order) ends in a passing
`refmem crosscheck`."""
import os
import re
import shlex

import pytest

from refmem.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOC = os.path.join(ROOT, "docs", "crosscheck.md")


def _blocks():
    with open(DOC, encoding="utf8") as fh:
        text = fh.read()
    return [(m.group(1), m.group(2)) for m in re.finditer(r"```(\w+)\n(.*?)```", text, re.S)]


def test_reference_modules_in_docs_are_the_tested_ones():
    python = [code for lang, code in _blocks() if lang == "python"]
    with open(os.path.join(ROOT, "tests", "torch_reference.py"), encoding="utf8") as fh:
        assert python[0] == fh.read()


def test_walkthrough(tmp_path, monkeypatch, capsys):
    pytest.importorskip("torch")
    monkeypatch.chdir(tmp_path)
    namespace = {}
    ran = []
    for lang, code in _blocks()[1:]:  # the first block is the module itself (imported instead)
        if lang == "sh":
            for line in code.splitlines():
                if line.startswith("refmem "):
                    assert main(shlex.split(line)[1:]) == 0, line
                    ran.append(line)
        elif lang == "python" and "class VAE" not in code:
            exec(compile(code, DOC, "exec"), namespace)
    assert any("crosscheck" in r for r in ran)
    written = sorted(f[:-4] for f in os.listdir("theirs"))
    assert written == ["conv2d_same_k3_s2", "conv2d_transpose_same_k3_s2", "vae_bow", "vae_mnist",
                       "vae_shapes3d"]
    capsys.readouterr()
    assert main(["crosscheck", "fixtures", "theirs", "--only", *written]) == 0
    out = capsys.readouterr().out
    assert "vae_shapes3d:grad/decoder.conv4.kernel" in out and " 0 fail" in out
