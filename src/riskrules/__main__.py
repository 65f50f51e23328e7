"""``python -m riskrules``: the same command line as the ``riskrules`` script."""

from __future__ import annotations

import sys

from riskrules.cli import main

if __name__ == "__main__":
    sys.exit(main())
