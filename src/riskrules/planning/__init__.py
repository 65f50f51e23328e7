"""Risk management planning: what would change a level, and what to ask next.

These questions need the compiled rules, so they take a :class:`~riskrules.Scorer` (a
:class:`~riskrules.RiskReport` stays plain data):

* :func:`what_if` rescores an assessment with some inputs changed and returns the difference
  (levels, rules, findings and recommendations gained and lost, with the rules responsible);
* :func:`lower` finds the smallest sets of input changes, within the inputs' declared domains,
  that bring a hazard down to a level; never by removing an answer, never touching ``fixed``
  inputs or inputs declared ``actionable: false``;
* :func:`next_questions` ranks the missing inputs of an incomplete assessment by the range of
  levels their answer could reach.

The answers are statements about the rules, not clinical advice (docs/planning.md).
Implementation modules: ``_space`` (regions of each input's domain), ``_context``, ``_whatif``,
``_lower`` and ``_questions``.
"""

from riskrules.planning._lower import Counterfactual, Lowering, lower
from riskrules.planning._questions import LevelRange, Question, next_questions
from riskrules.planning._whatif import Change, Difference, LevelChange, WhatIf, what_if

__all__ = [
    "Change",
    "Counterfactual",
    "Difference",
    "LevelChange",
    "LevelRange",
    "Lowering",
    "Question",
    "WhatIf",
    "lower",
    "next_questions",
    "what_if",
]
