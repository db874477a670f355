"""``refmem run extended [--config quick|paper|tiny] [--vae PATH] [--seed S] [--out DIR]
[--set key=value ...]``."""
from __future__ import annotations

from typing import List, Optional

from refmem.experiments.extended.config import CONFIGS, validate_config
from refmem.experiments.runner import cli_main

__all__ = ["main", "DESCRIPTION"]

DESCRIPTION = ("extended model: sensory + conceptual hippocampal traces, hybrid recall and the "
               "error-threshold trade-off (E12-E13)")


def main(argv: Optional[List[str]] = None) -> int:
    """Parse arguments and run :func:`refmem.experiments.extended.run`; return the exit status.

    0 when the run completed (the criteria's verdicts are in ``report.md``), 2 for bad
    arguments or values, 1 for a runtime failure (see
    :func:`refmem.experiments.runner.cli_main`). Without ``--vae`` the consolidated VAE
    of the preset's ``vae_preset`` is trained first (once, then cached).
    """
    from refmem.experiments.extended.run import run

    def start(cfg, out, *, preset, quiet, vae_path):
        return run(cfg, out, vae_path=vae_path, preset=preset, verbose=not quiet)

    return cli_main(argv, "extended", DESCRIPTION, CONFIGS, validate_config, start)
