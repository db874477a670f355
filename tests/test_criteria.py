"""Criteria as data: rule evaluation, controls, table rendering, bad declarations."""
import math

import pytest

from refmem.experiments.criteria import Criterion, controls_fail, count_passed, evaluate, format_table


def test_ops_and_missing_values():
    c = Criterion("X", "effect", "m", "<", 0.0, control="ctl")
    assert c.passes(-1.0) is True
    assert c.passes(0.0) is False
    assert c.passes(None) is None and c.passes(math.nan) is None and c.passes(math.inf) is None
    rows = evaluate([c], {}, {"ctl": {"m": 1.0}})
    assert rows[0]["result"] == "n/a" and rows[0]["passed"] is None
    assert count_passed(rows) == (0, 1)


def test_control_that_passes_is_flagged():
    c = Criterion("X", "effect", "m", ">=", 0.5, paper="0.8", control="untrained")
    rows = evaluate([c], {"m": 0.9}, {"untrained": {"m": 0.7}})
    assert rows[0]["control_passed"] is True
    assert not controls_fail(rows)
    table = format_table(rows)
    assert "PASSES (broken check)" in table and "`m >= 0.5`" in table


def test_control_not_run():
    c = Criterion("X", "effect", "m", ">", 0.5, control="absent", note="an extension")
    rows = evaluate([c], {"m": 0.9})
    assert rows[0]["control_result"] == "not run" and controls_fail(rows)
    assert "- X: an extension" in format_table(rows)


@pytest.mark.parametrize("op,thr", [("=>", 1.0), (">", math.nan), (">", "1"), (">", True)])
def test_bad_declarations(op, thr):
    with pytest.raises(ValueError):
        Criterion("X", "effect", "m", op, thr)
