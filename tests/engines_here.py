"""The engines that run on this machine, decided once for the whole suite.

durable-rules builds on CPython 3.11 and 3.12 only; elsewhere only the native engine runs. Tests
take ``ENGINES`` (or the ``engine`` fixture of ``conftest.py``) instead of checking for
themselves.
"""

from __future__ import annotations

from riskrules.testing import available_engines

ENGINES: tuple[str, ...] = available_engines()
DURABLE: bool = "durable" in ENGINES
