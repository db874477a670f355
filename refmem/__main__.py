"""``python -m refmem`` is the same as the ``refmem`` console script."""
import sys

from .cli import main

sys.exit(main())
