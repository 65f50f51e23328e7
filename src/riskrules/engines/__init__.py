"""Rule engines behind one small interface (see :mod:`riskrules.engines.base`)."""
