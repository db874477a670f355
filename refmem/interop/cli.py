"""``refmem convert``, ``refmem fixtures`` and ``refmem crosscheck``.

::

    refmem convert keras --arch shapes3d ENCODER.h5 DECODER.h5 --out vae.npz
    refmem convert keras --arch bow VAE.h5 --out vae.npz      # one file, nested encoder/decoder
    refmem fixtures --out FIXTURES
    refmem crosscheck FIXTURES THEIRS [--tol 1e-5] [--only 'vae_*'] [--allow-missing]
"""
from __future__ import annotations

import argparse
import os
import time
from typing import List, Optional

import numpy as np

__all__ = ["convert_main", "fixtures_main", "crosscheck_main", "HELP"]

#: command -> one-line help (shown by ``refmem --help``)
HELP = {
    "convert": "convert Keras weight files (.h5 / .weights.h5) of the paper's VAEs to a refmem VAE",
    "fixtures": "write float64 conformance fixtures + manifest.json for cross-checking a port",
    "crosscheck": "compare another implementation's outputs with the fixtures (exit 1 on failure)",
}


def convert_main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="refmem convert", description=HELP["convert"] + (
        ". The result is a refmem VAE file that every --vae option accepts."))
    p.add_argument("source", choices=["keras"], help="format of the weight files")
    p.add_argument("encoder", help="encoder weights (Keras 2 .h5 or Keras 3 .weights.h5)")
    p.add_argument("decoder", nargs="?", help="decoder weights; omit it when ENCODER is one file of a "
                                              "whole VAE with nested models 'encoder' and 'decoder'")
    p.add_argument("--arch", required=True, choices=["shapes3d", "mnist", "bow"])
    p.add_argument("--out", required=True, help="output .npz (refmem VAE)")
    p.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    p.add_argument("--bn-stats", default="check", choices=["check", "load"],
                   help="'check' (default): refuse batch-norm moving statistics other than (0, 1); "
                        "'load': use them")
    a = p.parse_args(argv)
    from .keras import load_keras_vae

    try:
        vae = load_keras_vae(a.arch, a.encoder, a.decoder, dtype=np.dtype(a.dtype), bn_stats=a.bn_stats)
    except (ValueError, ImportError) as exc:
        print(f"refmem convert: {exc}")
        return 2
    vae.save(a.out)
    print(f"{vae}\nwritten to {a.out}")
    return 0


def fixtures_main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="refmem fixtures", description=HELP["fixtures"])
    p.add_argument("--out", required=True, help="folder for <item>.npz and manifest.json")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--only", nargs="+", metavar="PATTERN", help="glob patterns of item names")
    p.add_argument("--list", action="store_true", help="list the items and what each checks")
    a = p.parse_args(argv)
    from .fixtures import items, write_fixtures

    if a.list:
        for it in items():
            print(f"{it.name:<30} {it.checks}")
        return 0
    t = time.perf_counter()
    try:
        manifest = write_fixtures(a.out, seed=a.seed, only=a.only)
    except ValueError as exc:
        print(f"refmem fixtures: {exc}")
        return 2
    size = sum(os.path.getsize(os.path.join(a.out, e["file"])) for e in manifest["items"])
    print(f"{len(manifest['items'])} items ({size / 2 ** 20:.1f} MiB) + manifest.json written to "
          f"{a.out} in {time.perf_counter() - t:.1f} s")
    return 0


def crosscheck_main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="refmem crosscheck", description=HELP["crosscheck"])
    p.add_argument("fixtures", help="folder written by `refmem fixtures`")
    p.add_argument("theirs", help="folder of the other implementation's <item>.npz outputs")
    p.add_argument("--tol", type=float, default=None,
                   help="tolerance for every item (default: each item's own; try 1e-5 for float32)")
    p.add_argument("--only", nargs="+", metavar="PATTERN", help="glob patterns of item names")
    p.add_argument("--allow-missing", action="store_true", help="skip items without an output file")
    p.add_argument("--failures-only", action="store_true", help="print only the failing rows")
    a = p.parse_args(argv)
    from .crosscheck import crosscheck, format_table, summary

    try:
        rows = crosscheck(a.fixtures, a.theirs, tol=a.tol, only=a.only, allow_missing=a.allow_missing)
    except ValueError as exc:
        print(f"refmem crosscheck: {exc}")
        return 2
    print(format_table(rows, failures_only=a.failures_only))
    failed = summary(rows)["failed"]
    if failed:
        print("FAILED: " + ", ".join(failed))
        return 1
    return 0
