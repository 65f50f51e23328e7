"""Print the public surface that tests/test_api.py pins: each public module's ``__all__``.

A deliberate change to the public API regenerates the pin and shows in review:

    python scripts/public_surface.py > tests/data/public_surface.json
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from test_api import PUBLIC_MODULES

if __name__ == "__main__":
    surface = {name: sorted(importlib.import_module(name).__all__) for name in PUBLIC_MODULES}
    sys.stdout.write(json.dumps(surface, indent=2) + "\n")
