"""``refmem run hybrid [--config quick|paper|tiny] [--seed S] [--out DIR] [--set k=v] [--quiet]``."""
from __future__ import annotations

from typing import List, Optional

from refmem.experiments.runner import cli_main
from refmem.experiments.hybrid.config import CONFIGS, validate_config

__all__ = ["main", "DESCRIPTION"]

DESCRIPTION = "hybrid recall: the VAE's gist queries the Hopfield network, by consolidation stage (E16)"


def main(argv: Optional[List[str]] = None) -> int:
    """Run the experiment; return 0 when it completed, 2 for bad arguments or values.

    The staged VAEs are cached and training resumes where it stopped, so an interrupted
    run continues when started again.
    """
    from refmem.experiments.hybrid.run import run

    return cli_main(argv, "hybrid", DESCRIPTION, CONFIGS, validate_config, run, vae=False, resume=False)
