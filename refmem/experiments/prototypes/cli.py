"""``refmem run prototypes [--config quick|paper|tiny] [--vae FILE] [--seed S] [--out DIR] [--set k=v] [--quiet]``."""
from __future__ import annotations

from typing import List, Optional

from refmem.experiments.prototypes.config import CONFIGS, validate_config
from refmem.experiments.runner import cli_main

__all__ = ["main", "DESCRIPTION"]

DESCRIPTION = "prototypical distortion (E10): recall through the MNIST VAE shrinks the variance within each digit class"


def main(argv: Optional[List[str]] = None) -> int:
    """Parse arguments and run; 0 when the run completed, 2 for bad arguments or values."""
    from refmem.experiments.prototypes.run import run

    return cli_main(argv, "prototypes", DESCRIPTION, CONFIGS, validate_config, run)
