"""Command-line interface: ``refmem list``, ``refmem run NAME``, ``refmem bench NAME``,
``refmem sweep NAME ...`` (many runs over seeds, :mod:`refmem.sweep.cli`),
``refmem convert|fixtures|crosscheck`` (the cross-check kit, :mod:`refmem.interop.cli`).

Experiments and benchmarks are looked up in the registries below and imported lazily,
so one command never pays for (or breaks on) another's imports. Each experiment module
exposes ``main(argv) -> int``, ``DESCRIPTION`` (one line) and ``CONFIGS`` (preset
name -> config); each benchmark module exposes ``main(argv) -> int`` and
``DESCRIPTION``.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from typing import List, Optional

__all__ = ["main", "EXPERIMENTS", "BENCHMARKS"]

#: experiment name -> module exposing main(argv), DESCRIPTION, CONFIGS
EXPERIMENTS = {
    "consolidation": "refmem.experiments.consolidation",
    "extended": "refmem.experiments.extended",
    "prototypes": "refmem.experiments.prototypes",
    "boundary": "refmem.experiments.boundary",
    "carmichael": "refmem.experiments.carmichael",
    "drm": "refmem.experiments.drm",
    "lesion": "refmem.experiments.lesion",
    "hybrid": "refmem.experiments.hybrid",
    "novelty": "refmem.experiments.novelty",
}

#: benchmark name -> module exposing main(argv), DESCRIPTION
BENCHMARKS = {
    "hopfield": "refmem.benchmarks.hopfield",
    "vae": "refmem.benchmarks.vae",
    "shapes3d": "refmem.benchmarks.shapes3d",
    "renderer-critic": "refmem.benchmarks.renderer_critic",
    "sweep": "refmem.benchmarks.sweep",
}


#: cross-check kit: command -> function in refmem.interop.cli (convert, fixtures, crosscheck)
TOOLS = {"convert": "convert_main", "fixtures": "fixtures_main", "crosscheck": "crosscheck_main"}


def _load(table: dict, kind: str, name: str):
    if name not in table:
        print(f"refmem: error: unknown {kind} {name!r}; choose from {', '.join(sorted(table))}", file=sys.stderr)
        raise SystemExit(2)
    return importlib.import_module(table[name])


def _cmd_list() -> int:
    print("Experiments (refmem run NAME [--config PRESET] ...):")
    for name, mod in EXPERIMENTS.items():
        try:
            m = importlib.import_module(mod)
            desc, presets = m.DESCRIPTION, ", ".join(m.CONFIGS)
        except Exception as exc:  # keep `list` usable even if one module is broken
            desc, presets = f"(unavailable: {exc})", "-"
        print(f"  {name:<15} {desc}\n  {'':<15} configs: {presets}")
    print("\nBenchmarks (refmem bench NAME):")
    for name, mod in BENCHMARKS.items():
        try:
            desc = importlib.import_module(mod).DESCRIPTION
        except Exception as exc:
            desc = f"(unavailable: {exc})"
        print(f"  {name:<15} {desc}")
    return 0


def _guarded(prog: str, fn, argv: List[str]) -> int:
    """Run a command's ``main``; a user error becomes one line on stderr, not a traceback.

    Exit status (:func:`refmem._errors.exit_status`): the command's own; 2 for a wrong
    command line or config (:class:`refmem._errors.UsageError`); 1 for a runtime failure
    the command did not catch (a damaged file, an unwritable folder, diverged training,
    not enough memory); 130 when interrupted. Anything else is a bug and keeps its
    traceback.
    """
    from refmem._errors import exit_status

    return exit_status(prog, fn, argv)


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point of the ``refmem`` console script and ``python -m refmem``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in TOOLS:
        tool = getattr(importlib.import_module("refmem.interop.cli"), TOOLS[argv[0]])
        return _guarded(f"refmem {argv[0]}", tool, argv[1:])
    if argv and argv[0] == "sweep":
        from refmem.sweep.cli import main as sweep_main

        return _guarded("refmem sweep", sweep_main, argv[1:])
    parser = argparse.ArgumentParser(
        prog="refmem",
        description="Generative model of memory construction and consolidation "
                    "(Spens & Burgess 2024) in NumPy.")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("list", help="list experiments, their configs, and benchmarks")
    p_run = sub.add_parser("run", help="run an experiment (see `refmem list`)", add_help=False)
    p_run.add_argument("name", nargs="?")
    p_bench = sub.add_parser("bench", help="run a benchmark (see `refmem list`)", add_help=False)
    p_bench.add_argument("name", nargs="?")
    sub.add_parser("sweep", help="run experiments over seeds and presets, locally or on a Dask cluster, "
                                 "and summarise them (see `refmem sweep --help`)", add_help=False)
    for name in TOOLS:
        sub.add_parser(name, help=f"see `refmem {name} --help`", add_help=False)
    from refmem import __version__

    parser.add_argument("--version", action="version", version=f"refmem {__version__}")
    args, rest = parser.parse_known_args(argv)
    if args.command == "list":
        return _cmd_list()
    if args.command in ("run", "bench"):
        if args.name is None or args.name.startswith("-"):
            table = EXPERIMENTS if args.command == "run" else BENCHMARKS
            usage = f"usage: refmem {args.command} NAME [options]; NAME is one of {', '.join(table)}"
            if args.name in ("-h", "--help"):
                print(usage)
                return 0
            print(f"{usage}\nrefmem {args.command}: error: NAME is missing", file=sys.stderr)
            return 2
        table = EXPERIMENTS if args.command == "run" else BENCHMARKS
        module = _load(table, args.command == "run" and "experiment" or "benchmark", args.name)
        return _guarded(f"refmem {args.command} {args.name}", module.main, rest)
    parser.print_help()
    return 0 if not argv else 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
