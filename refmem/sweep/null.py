"""A null experiment: the shape of an experiment with no model inside, for the sweep machinery.

``refmem bench sweep`` measures the sweep's own cost per run with it, and the tests use it to
drive a sweep through finished, interrupted, failing and dependent runs in a fraction of a
second each. It is not registered in :data:`refmem.cli.EXPERIMENTS`; a sweep reaches it through
the ``registry`` argument of :func:`refmem.sweep.plan.plan`.

Its one measure is ``value + slope * seed`` (a known number per seed) with the criterion
``value > threshold`` and the control ``zero`` (value 0), which fails it for any positive
threshold. It writes ``results.json`` (with ``resumed`` and the ``--vae`` file it was given),
``report.md`` and a stand-in ``vae.npz`` (so it can play the VAE provider), and can sleep,
fail on purpose for one seed, or stop before its results.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import List, Optional

from refmem._utils import save_json
from refmem.config import config_to_dict
from refmem.experiments.criteria import Criterion, evaluate, format_table

__all__ = ["NullConfig", "CONFIGS", "DESCRIPTION", "validate_config", "run", "main"]

DESCRIPTION = "null experiment: no model; a known measure per seed (for the sweep's tests and benchmark)"


@dataclass(frozen=True)
class NullConfig:
    """Parameters of the null experiment.

    Attributes
    ----------
    seed : int
    value, slope : float
        The measure is ``value + slope * seed``.
    threshold : float
        The criterion is ``value > threshold``.
    sleep_s : float
        Seconds spent "running".
    fail_seed : int
        Raise ``RuntimeError`` for this seed (-1: never).
    stop_seed : int
        For this seed, write ``config.json`` and return without results (as an interrupted
        run leaves its folder; -1: never).
    vae_preset : str
        Non-empty: the run depends on the VAE of that consolidation preset.
    """

    seed: int = 0
    value: float = 1.0
    slope: float = 0.5
    threshold: float = 0.5
    sleep_s: float = 0.0
    fail_seed: int = -1
    stop_seed: int = -1
    vae_preset: str = ""


CONFIGS = {"quick": NullConfig(), "paper": NullConfig(), "tiny": NullConfig()}

CRITERIA = [Criterion("N1", "the null measure exceeds its threshold", "value", ">", 0.5, paper="1",
                      control="zero")]


def validate_config(cfg: NullConfig) -> NullConfig:
    """Raise ``ValueError`` for a negative ``sleep_s``; return ``cfg``."""
    if not cfg.sleep_s >= 0:
        raise ValueError(f"sleep_s must be >= 0, got {cfg.sleep_s!r}")
    return cfg


def run(cfg: NullConfig, out_dir: str, *, preset: str = "quick", quiet: bool = False,
        vae_path: Optional[str] = None, resume: bool = False) -> dict:
    """Write the null run's outputs into ``out_dir``; return its results."""
    t0 = time.perf_counter()
    os.makedirs(out_dir, exist_ok=True)
    resumed = resume and os.path.exists(os.path.join(out_dir, "config.json"))
    save_json(os.path.join(out_dir, "config.json"), config_to_dict(cfg))
    if not quiet:
        print(f"null: preset {preset}, seed {cfg.seed}{' (resuming)' if resumed else ''}", flush=True)
    if cfg.sleep_s:
        time.sleep(cfg.sleep_s)
    if cfg.seed == cfg.fail_seed:
        raise RuntimeError(f"failing on purpose for seed {cfg.seed} (fail_seed)")
    if cfg.seed == cfg.stop_seed:
        return {}
    if vae_path is not None and not os.path.isfile(vae_path):
        raise ValueError(f"--vae {vae_path!r}: no such file")
    with open(os.path.join(out_dir, "vae.npz"), "wb") as fh:  # a stand-in model file
        fh.write(b"")
    crit = [Criterion(c.id, c.effect, c.measure, c.op, cfg.threshold, c.paper, c.control) for c in CRITERIA]
    rows = evaluate(crit, {"value": cfg.value + cfg.slope * cfg.seed}, {"zero": {"value": 0.0}})
    res = {"experiment": "null", "preset": preset, "config": config_to_dict(cfg), "criteria": rows,
           "passed": all(r["passed"] for r in rows), "resumed": resumed, "vae_path": vae_path,
           "pid": os.getpid(), "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS"),
           "started": time.time() - (time.perf_counter() - t0), "timings": {"total_s": time.perf_counter() - t0}}
    res["finished"] = time.time()
    with open(os.path.join(out_dir, "report.md"), "w") as fh:
        fh.write("# null run\n\n" + format_table(rows))
    save_json(os.path.join(out_dir, "results.json"), res)
    return res


def main(argv: Optional[List[str]] = None) -> int:
    """``refmem run``-style command line (``--config --seed --out --set --quiet --vae --resume``)."""
    from refmem.experiments.runner import cli_main

    return cli_main(argv, "null", DESCRIPTION, CONFIGS, validate_config, run, vae=True, resume=True)
