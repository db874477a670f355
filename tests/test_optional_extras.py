"""The core needs numpy and scipy only: optional extras are imported where they are used, and
a missing one is reported in one line naming the extra to install."""
import subprocess
import sys

from refmem import plotting

EXTRAS = ("matplotlib", "h5py", "torch", "dask", "PIL")

# Imports every module of refmem with the packages named in argv[1] made unimportable; prints
# each module whose import fails without naming a refmem extra.
_IMPORT_ALL = r'''
import importlib, importlib.abc, pkgutil, sys
blocked = set(sys.argv[1].split(","))

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in blocked:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, Block())
import refmem
bad, n = [], 0
for info in pkgutil.walk_packages(refmem.__path__, "refmem.", onerror=lambda name: None):
    if info.name == "refmem.__main__":
        continue
    n += 1
    try:
        importlib.import_module(info.name)
    except ImportError as exc:
        if "refmem[" not in str(exc) or "\n" in str(exc).strip():
            bad.append(f"{info.name}: {exc}")
leaked = sorted(m for m in sys.modules if m.split(".")[0] in blocked)
print(n, "modules")
print("\n".join(bad + [f"imported: {m}" for m in leaked]))
sys.exit(1 if bad or leaked or n < 20 else 0)
'''


def _import_all(blocked):
    return subprocess.run([sys.executable, "-c", _IMPORT_ALL, ",".join(blocked)],
                          capture_output=True, text=True, timeout=300)


def test_every_module_imports_without_extras():
    res = _import_all(EXTRAS)
    assert res.returncode == 0, res.stdout + res.stderr


def test_import_check_catches_a_core_dependency():
    # negative control: blocking a package the core needs must be reported
    res = _import_all(("scipy",))
    assert res.returncode != 0 and "refmem." in res.stdout


def test_get_pyplot_without_matplotlib(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    assert plotting.get_pyplot() is None
