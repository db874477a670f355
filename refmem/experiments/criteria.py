"""Pass rules of the paper's effects, declared as data.

Every experiment declares its effects once, as a list of :class:`Criterion`. A criterion
compares one named scalar *measure* (a key of the experiment's ``measures`` dict) with
a threshold; compound rules are several criteria. Each criterion names a *negative
control*: a broken model or input (an untrained VAE, an identity or constant decoder, a
corpus without the structure) whose measure must fail the same rule. The run computes
the control's measures next to the model's, so the report shows both, and the fast
tests assert that every control fails.

:func:`evaluate` turns criteria + measures into report rows; :func:`format_table`
renders them as Markdown, and :func:`count_passed` summarises them.

Examples
--------
>>> c = Criterion("E0", "memories are recalled", "recall_rate", ">=", 0.9,
...               paper="near-exact", control="untrained")
>>> c.passes(0.95), c.passes(0.5), c.passes(float("nan"))
(True, False, None)
>>> rows = evaluate([c], {"recall_rate": 0.95}, {"untrained": {"recall_rate": 0.1}})
>>> rows[0]["result"], rows[0]["control_result"]
('PASS', 'fails (as it must)')
>>> count_passed(rows)
(1, 1)
"""
from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

__all__ = ["Criterion", "evaluate", "format_table", "count_passed", "controls_fail", "control_summary", "finite_or_none",
           "from_table", "OPS"]

#: the comparison operators a criterion may use
OPS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}


@dataclass(frozen=True)
class Criterion:
    """One effect's pass rule: ``measures[measure] <op> threshold``.

    Parameters
    ----------
    id : str
        Short label used in reports and tests (``"E3a"``, ``"E10.var_all"``).
    effect : str
        The effect in the paper's words.
    measure : str
        Key of the measured scalar in the experiment's ``measures`` dict.
    op : {">", ">=", "<", "<="}
    threshold : float
    paper : str, default ""
        The paper's value or wording, shown next to this run's value.
    control : str, default ""
        Name of the negative control (a key of the ``controls`` mapping given to
        :func:`evaluate`) that must fail this rule.
    note : str, default ""
        Anything a reader needs to interpret the rule (a deviation from the paper's
        procedure, an extension).
    """

    id: str
    effect: str
    measure: str
    op: str
    threshold: float
    paper: str = ""
    control: str = ""
    note: str = ""

    def __post_init__(self):
        if self.op not in OPS:
            raise ValueError(f"criterion {self.id}: op must be one of {sorted(OPS)}, got {self.op!r}")
        if not isinstance(self.threshold, (int, float)) or isinstance(self.threshold, bool) \
                or not math.isfinite(self.threshold):
            raise ValueError(f"criterion {self.id}: threshold must be a finite number, got {self.threshold!r}")

    @property
    def rule(self) -> str:
        """The rule as text, e.g. ``"recall_rate >= 0.9"``."""
        return f"{self.measure} {self.op} {self.threshold:g}"

    def passes(self, value) -> Optional[bool]:
        """True/False for a finite value; None when it could not be measured (None or NaN)."""
        if value is None:
            return None
        value = float(value)
        if not math.isfinite(value):
            return None
        return bool(OPS[self.op](value, self.threshold))


def finite_or_none(v) -> Optional[float]:
    """``float(v)`` if it is a finite number, else None (a measure that could not be taken)."""
    try:
        v = float(v)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _fmt(v) -> str:
    if v is None:
        return "n/a"
    v = float(v)
    if not math.isfinite(v):
        return "n/a"
    return f"{v:.4g}"


def _verdict(ok: Optional[bool]) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "FAIL")


def evaluate(criteria: Sequence[Criterion], measures: Mapping[str, float],
             controls: Optional[Mapping[str, Mapping[str, float]]] = None) -> List[Dict[str, object]]:
    """Evaluate every criterion on ``measures`` (and on its control's measures, if given).

    Parameters
    ----------
    criteria : sequence of Criterion
    measures : mapping str -> float
        This run's measured scalars; a criterion whose measure is missing, None or NaN
        gets the result ``"n/a"`` (not a pass).
    controls : mapping str -> mapping str -> float, optional
        Measures of each negative control, keyed by the control's name.

    Returns
    -------
    list of dict
        One row per criterion: ``id, effect, rule, paper, value, passed, result,
        control, control_value, control_passed, control_result, note``.
    """
    controls = controls or {}
    rows = []
    for c in criteria:
        value = measures.get(c.measure)
        ok = c.passes(value)
        cm = controls.get(c.control)
        cv = None if cm is None else cm.get(c.measure)
        cok = None if cm is None else c.passes(cv)
        if cm is None:
            cres = "not run"
        elif cok is None:
            cres = "n/a"
        else:
            cres = "PASSES (broken check)" if cok else "fails (as it must)"
        rows.append({"id": c.id, "effect": c.effect, "rule": c.rule, "paper": c.paper,
                     "value": None if value is None else float(value), "passed": ok, "result": _verdict(ok),
                     "control": c.control, "control_value": None if cv is None else float(cv),
                     "control_passed": cok, "control_result": cres, "note": c.note})
    return rows


def count_passed(rows: Sequence[Mapping[str, object]]) -> Tuple[int, int]:
    """``(number passed, number of criteria)``."""
    return sum(r["passed"] is True for r in rows), len(rows)


def controls_fail(rows: Sequence[Mapping[str, object]]) -> bool:
    """True when no evaluated control passes its criterion."""
    return not any(r["control_passed"] is True for r in rows)


def format_table(rows: Sequence[Mapping[str, object]]) -> str:
    """The rows as a Markdown table (effect, rule, paper, this run, result, control)."""
    head = ("| id | effect | rule | paper | this run | result | control | control's value | control |\n"
            "|---|---|---|---|---|---|---|---|---|\n")
    body = "".join(
        f"| {r['id']} | {r['effect']} | `{r['rule']}` | {r['paper']} | {_fmt(r['value'])} | **{r['result']}** | "
        f"{r['control'] or '-'} | {_fmt(r['control_value'])} | {r['control_result']} |\n" for r in rows)
    notes = [f"- {r['id']}: {r['note']}" for r in rows if r["note"]]
    return head + body + ("\n" + "\n".join(notes) + "\n" if notes else "")


def control_summary(criteria: Sequence[Criterion], controls: Mapping[str, Mapping[str, float]],
                    descriptions: Optional[Mapping[str, str]] = None) -> str:
    """Markdown lines: how many of *all* the criteria each control passes.

    A control is built to fail its own criteria; this shows how a broken model fares
    on the whole list (only criteria whose measure exists for it are counted).
    """
    lines = []
    for name in sorted(controls):
        rows = [r for r in evaluate(criteria, controls[name]) if r["passed"] is not None]
        what = f" ({descriptions[name]})" if descriptions and name in descriptions else ""
        lines.append(f"- `{name}`{what}: passes {count_passed(rows)[0]} of the {len(rows)} criteria measured on it")
    return "\n".join(lines) + ("\n" if lines else "")


def from_table(rows: Sequence[Tuple[str, str, str, str, str]], notes: Optional[Mapping[str, str]] = None,
               **values: float) -> List[Criterion]:
    """Criteria from a table of ``(id, effect, rule, control, paper)`` rows.

    ``rule`` is ``"measure op threshold"``; the threshold may name a value given as a
    keyword (``"loss_ratio >= {min_loss_ratio}"``). ``notes`` maps ids to notes.

    Examples
    --------
    >>> from_table([("E0", "recall", "rate >= {r}", "untrained", "near-exact")], r=0.9)[0].rule
    'rate >= 0.9'
    """
    out = []
    for cid, effect, rule, control, paper in rows:
        measure, op, threshold = rule.format(**values).split()
        out.append(Criterion(cid, effect, measure, op, float(threshold), paper=paper, control=control,
                             note=(notes or {}).get(cid, "")))
    return out
