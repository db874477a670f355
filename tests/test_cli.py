import subprocess
import sys

from refmem.cli import main


def test_version_and_list(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "consolidation" in out and "hopfield" in out


def test_unknown_experiment():
    import pytest

    with pytest.raises(SystemExit):
        main(["run", "no-such-experiment"])


def test_python_dash_m():
    r = subprocess.run([sys.executable, "-m", "refmem", "--version"], capture_output=True, text=True)
    assert r.returncode == 0 and "refmem" in r.stdout


def test_top_level_exports_resolve():
    import refmem

    for name in refmem.__all__:
        assert getattr(refmem, name) is not None
    import pytest

    with pytest.raises(AttributeError):
        refmem.no_such_name
