"""Hostile inputs to every public entry point and every experiment's config.

Property: whatever the input, the answer is the documented result (finite wherever the
input was finite) or a ``ValueError``/``TypeError`` (``FloatingPointError`` for an
arithmetic limit) -- never another exception, a hang or a silent NaN (``hostile.py``
judges each call). The fast profile draws a few calls per entry point; the ``slow``
profile draws many more and also tries every hostile value on every argument.
"""
import dataclasses
import importlib

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from hostile import ARRAY_MUTATIONS, HOSTILE, Arr, build_kwargs, describe, judge, mutable
from hostile_entries import ENTRIES as _FIRST
from hostile_entries_more import ENTRIES_MORE

ENTRIES = _FIRST + ENTRIES_MORE

from refmem.cli import EXPERIMENTS
from refmem.config import apply_overrides

#: JSON texts for ``--set key=TEXT``: wrong types, out of range, absurd, non-finite
CONFIG_VALUES = ["0", "-1", "1", "2", "3", "2.5", "1e400", "-1e400", "NaN", "Infinity", "1e18", "100000000",
                 "true", "null", '"x"', "[]", "[0]", "[1, 2]", "[1e9]", "[-1, 5]", "{}", '{"a": 1}', "0.0", "1.5"]


@st.composite
def plans(draw, entry):
    """Which arguments to replace (0 to 2 of them) and by which hostile value."""
    names = mutable(entry)
    k = draw(st.integers(0, min(2, len(names))))
    chosen = draw(st.lists(st.sampled_from(names), min_size=k, max_size=k, unique=True)) if k else []
    return [(n, draw(st.integers(0, 63))) for n in chosen]


def _check(entry, seed, plan):
    kwargs = build_kwargs(entry, np.random.default_rng(seed), plan)
    outcome, detail = judge(entry, kwargs)
    assert outcome in ("ok", "clean"), f"{outcome} with {describe(kwargs)}\n{detail}"


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.name)
@settings(max_examples=10)
@given(data=st.data())
def test_entry_point(entry, data):
    _check(entry, data.draw(st.integers(0, 2 ** 32 - 1)), data.draw(plans(entry)))


@pytest.mark.slow
@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.name)
@settings(max_examples=200)
@given(data=st.data())
def test_entry_point_long(entry, data):
    _check(entry, data.draw(st.integers(0, 2 ** 32 - 1)), data.draw(plans(entry)))


@pytest.mark.slow
@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.name)
def test_every_hostile_value(entry):
    for name in mutable(entry):
        size = len(ARRAY_MUTATIONS) if isinstance(entry.args[name], Arr) else len(HOSTILE[entry.args[name].kind])
        for i in range(size):
            _check(entry, 0, [(name, i)])


def _config_module(name):
    return importlib.import_module(EXPERIMENTS[name] + ".config")


def _fields(cfg, prefix=""):
    for f in dataclasses.fields(cfg):
        v = getattr(cfg, f.name)
        yield from (_fields(v, prefix + f.name + ".") if dataclasses.is_dataclass(v) else [prefix + f.name])


@pytest.mark.parametrize("name", sorted(EXPERIMENTS))
@settings(max_examples=25)
@given(data=st.data())
def test_config_overrides(name, data):
    """Any ``--set`` either fails ``apply_overrides``/``validate_config`` with ValueError or
    TypeError, or gives a config that validates."""
    mod = _config_module(name)
    base = mod.CONFIGS[data.draw(st.sampled_from(sorted(mod.CONFIGS)))]
    items = data.draw(st.lists(st.tuples(st.sampled_from(list(_fields(base))), st.sampled_from(CONFIG_VALUES)),
                               min_size=1, max_size=3))
    try:
        mod.validate_config(apply_overrides(base, [f"{k}={v}" for k, v in items]))
    except (ValueError, TypeError):
        pass


@pytest.mark.parametrize("name", sorted(EXPERIMENTS))
def test_presets_validate(name):
    mod = _config_module(name)
    for cfg in mod.CONFIGS.values():
        assert mod.validate_config(cfg) is cfg
