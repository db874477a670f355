"""``refmem run consolidation``: command-line front end of :func:`refmem.experiments.consolidation.run`.

::

    refmem run consolidation [--config quick|paper|tiny] [--seed S] [--out DIR]
                             [--set key=value ...] [--vae FILE] [--resume] [--quiet]
    refmem run consolidation --rejudge --out DIR

Without ``--out`` the run folder is ``runs/consolidation-<config>-seed<S>`` (relative to
the current directory). ``--resume`` continues an interrupted run in that folder (an
error if the folder is missing or empty); if no ``--config``/``--set``/``--seed`` is
given it reuses the folder's ``config.json``.
``--vae FILE`` analyses a saved Shapes3D VAE (for instance the paper's released weights
converted with ``refmem convert keras``) instead of training one: replay (E1) and the
analyses E2, E4-E8 run; E3, which judges the training curve, is skipped.
``--rejudge`` judges the finished run in ``--out`` again under the current criteria
(nothing is re-run: every criterion is a function of ``results.json``) and rewrites its
``results.json`` verdicts and ``report.md``.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from typing import List, Optional

from refmem._errors import UsageError, exit_status, one_line
from refmem._utils import load_json
from refmem.experiments.common import Parser, check_out_dir
from refmem.progress import format_seconds
from refmem.experiments.consolidation.config import CONFIGS, config_load, get_config
from refmem.experiments.criteria import count_passed, format_table

__all__ = ["main", "DESCRIPTION", "build_parser"]

DESCRIPTION = ("consolidation (E1-E8): Hopfield replay trains a VAE; decoding, recall, "
               "interpolation, arithmetic, imagination, few-shot")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``refmem run consolidation``."""
    p = Parser(
        prog="refmem run consolidation", description=DESCRIPTION,
        epilog="Any config field can be set with --set, e.g. --set epochs=20 --set n_memories=2000. "
               "Fields: " + ", ".join(CONFIGS["quick"].__dataclass_fields__))
    p.add_argument("--config", choices=sorted(CONFIGS), default=None,
                   help="preset (default: quick, about 5 minutes on 2 cores)")
    p.add_argument("--seed", type=int, default=None, help="seed of every random stream (default 0)")
    p.add_argument("--out", default=None, help="run folder (default runs/consolidation-<config>-seed<S>)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config field (repeatable)")
    p.add_argument("--vae", default=None, metavar="FILE",
                   help="a saved Shapes3D VAE (.npz) to analyse instead of training one; E3 (the training "
                        "curve) is skipped")
    p.add_argument("--resume", action="store_true", help="continue an interrupted run in --out")
    p.add_argument("--rejudge", action="store_true",
                   help="judge the finished run in --out again under the current criteria (nothing is re-run)")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.add_argument("--stop-after-epoch", type=int, default=None, help=argparse.SUPPRESS)  # test hook
    return p


def _resolve(args) -> tuple:
    name = args.config or "quick"
    out = args.out or os.path.join("runs", f"consolidation-{name}-seed{0 if args.seed is None else args.seed}")
    check_out_dir(out, resume=args.resume)
    saved = os.path.join(out, "config.json")
    if args.resume and args.config is None and args.seed is None and not args.overrides and os.path.exists(saved):
        try:
            cfg = config_load(load_json(saved))
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{saved}: {exc}" if saved not in str(exc) else str(exc)) from None
        same = [p for p, c in CONFIGS.items() if dataclasses.replace(c, seed=cfg.seed) == cfg]
        return cfg, out, same[0] if same else "custom"
    preset = name if not args.overrides else f"{name} (modified)"
    try:
        return get_config(name, args.overrides, seed=args.seed), out, preset
    except (ValueError, TypeError, OverflowError) as exc:
        raise UsageError(one_line(exc)) from None


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point of ``refmem run consolidation``; returns the exit status.

    Exit status 0 when the run completed (whatever its pass/fail rows say), 2 for bad
    arguments or config values, 1 for a runtime failure (a damaged file, an unwritable
    folder, diverged training), 130 when interrupted; errors are one line on stderr.
    """
    parser = build_parser()
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    return exit_status("refmem run consolidation", _main, args)


def _main(args) -> int:
    from refmem.experiments.consolidation.run import run
    from refmem.systems.consolidation import RunInterrupted

    if args.rejudge:
        return _rejudge(args)
    cfg, out, preset = _resolve(args)
    if args.vae is not None and not os.path.isfile(args.vae):
        raise UsageError(f"--vae {args.vae}: no such file")
    if not args.quiet:
        print(f"consolidation: config {preset}, seed {cfg.seed}, output {out}"
              f"{' (resuming)' if args.resume else ''}", flush=True)
    try:
        res = run(cfg, out, resume=args.resume, quiet=args.quiet, preset=preset,
                  stop_after_epoch=args.stop_after_epoch, vae_path=args.vae)
    except (RunInterrupted, KeyboardInterrupt) as exc:
        print(f"\ninterrupted ({exc or 'Ctrl-C'}); continue with: refmem run consolidation --out {out} --resume",
              file=sys.stderr)
        return 130
    rows = res["effects"]
    n_pass = sum(r["result"] == "PASS" for r in rows)
    print(f"\ndone in {format_seconds(res['timings']['total'])}: {n_pass}/{len(rows)} paper effects pass\n")
    print(format_table(rows))
    print(f"results: {os.path.join(out, 'results.json')}\nreport:  {os.path.join(out, 'report.md')}\n"
          f"model:   {args.vae + ' (given)' if args.vae else os.path.join(out, 'vae.npz')}\n"
          f"figures: {out}/ (" + ", ".join(res["figures"]) + ")")
    if res["skipped_figures"]:
        print("skipped (needs matplotlib: pip install 'refmem[plot]'): " + ", ".join(res["skipped_figures"]))
    return 0


def _rejudge(args) -> int:
    from refmem.experiments.consolidation.report import verdict_changes
    from refmem.experiments.consolidation.run import rejudge

    given = [f for f, v in (("--config", args.config), ("--seed", args.seed), ("--set", args.overrides),
                            ("--vae", args.vae), ("--resume", args.resume),
                            ("--stop-after-epoch", args.stop_after_epoch)) if v is not None and v is not False and v != []]
    if given:
        raise UsageError(f"--rejudge takes only --out (and --quiet), not {', '.join(given)}")
    if args.out is None:
        raise UsageError("--rejudge needs --out DIR, the folder of a finished run")
    res = rejudge(args.out)
    rows = res["effects"]
    changed, new = verdict_changes(res, rows)
    if not args.quiet:
        print(format_table(rows))
    n_pass = count_passed(rows)[0]
    print(f"{args.out}: {n_pass}/{len(rows)} paper effects pass under the current criteria; changed from the "
          f"run's own verdicts: {', '.join(changed) if changed else 'none'}"
          + (f"; new criteria: {', '.join(new)}" if new else ""))
    return 0
