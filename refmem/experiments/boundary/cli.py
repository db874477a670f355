"""``refmem run boundary [--config quick|paper|tiny] [--vae FILE] [--seed S] [--out DIR] [--set k=v] [--quiet]``."""
from __future__ import annotations

from typing import List, Optional

from refmem.experiments.boundary.config import CONFIGS, validate_config
from refmem.experiments.runner import cli_main

__all__ = ["main", "DESCRIPTION"]

DESCRIPTION = ("boundary extension (E11): zoomed-in scenes are recalled wider, zoomed-out scenes closer "
               "(object height in the recall)")


def main(argv: Optional[List[str]] = None) -> int:
    """Parse arguments and run; 0 when the run completed, 2 for bad arguments or values."""
    from refmem.experiments.boundary.run import run

    return cli_main(argv, "boundary", DESCRIPTION, CONFIGS, validate_config, run)
