"""``python -m refmem`` is the same as the ``refmem`` console script."""
import sys

from refmem.cli import main

sys.exit(main())
