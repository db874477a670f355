"""Old module paths of refmem 0.1 (deprecated; removed in the next release).

``import refmem.vae`` and the like still work: a meta-path finder imports the new
module, registers it under the old name and emits a :class:`DeprecationWarning`
naming the new path. Only whole modules are aliased (``refmem.layers.conv`` maps to
``refmem.nn.layers.conv``).
"""
from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings

__all__ = ["ALIASES", "install"]

#: old module -> new module (a module under an old package maps to the same path under the new one)
ALIASES = {
    "refmem.hopfield": "refmem.hippocampus",
    "refmem.layers": "refmem.nn.layers",
    "refmem.losses": "refmem.nn.losses",
    "refmem.optim": "refmem.nn.optim",
    "refmem.gradcheck": "refmem.nn.gradcheck",
    "refmem.vae": "refmem.neocortex",
    "refmem.encoder": "refmem.neocortex.encoder",
    "refmem.architectures": "refmem.neocortex.architectures",
    "refmem.training": "refmem.neocortex.training",
    "refmem.probes": "refmem.analysis.probes",
    "refmem.consolidation": "refmem.experiments.consolidation",
    "refmem.extended": "refmem.experiments.extended",
}


def _target(name: str):
    for old, new in ALIASES.items():
        if name == old or name.startswith(old + "."):
            return new + name[len(old):]
    return None


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, target: str):
        self.target = target

    def create_module(self, spec):
        return importlib.import_module(self.target)

    def exec_module(self, module):
        pass


class _AliasFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        new = _target(fullname)
        if new is None:
            return None
        warnings.warn(f"{fullname} is deprecated; import {new} instead", DeprecationWarning, stacklevel=3)
        return importlib.util.spec_from_loader(fullname, _AliasLoader(new))


def install() -> None:
    """Put the alias finder on ``sys.meta_path`` (idempotent)."""
    if not any(isinstance(f, _AliasFinder) for f in sys.meta_path):
        sys.meta_path.append(_AliasFinder())
