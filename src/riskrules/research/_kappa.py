"""Agreement statistics of two raters' levels: Cohen's kappa and quadratic weighted kappa.

Both are computed exactly from integer counts. With ``n`` records, observed counts ``o[i][j]``
(rows one rater, columns the other), row totals ``r`` and column totals ``c``::

    kappa   = (n * sum_i o[i][i] - sum_i r[i] c[i]) / (n**2 - sum_i r[i] c[i])
    kappa_w = 1 - n * sum_ij w[i][j] o[i][j] / sum_ij w[i][j] r[i] c[j],  w[i][j] = (i - j)**2

(the usual normalisation of the quadratic weights by ``(k - 1)**2`` cancels). When the expected
disagreement is zero (both sides put every record in one and the same level), kappa is 0/0; we
define it as 1.0 when the observed agreement is perfect and 0.0 otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["cohens_kappa", "weighted_kappa"]


def cohens_kappa(matrix: Sequence[Sequence[int]]) -> float:
    """Cohen's (unweighted) kappa of a square matrix of counts (rows one rater, columns the other).

    Degenerate case (expected agreement 1): 1.0 when observed agreement is 1, else 0.0; an empty
    matrix (no records) also gives 1.0.
    """
    k = len(matrix)
    n = sum(sum(row) for row in matrix)
    rows = [sum(row) for row in matrix]
    cols = [sum(matrix[i][j] for i in range(k)) for j in range(k)]
    diagonal = sum(matrix[i][i] for i in range(k))
    chance = sum(rows[i] * cols[i] for i in range(k))
    denominator = n * n - chance
    if denominator == 0:
        return 1.0 if diagonal == n else 0.0
    return (n * diagonal - chance) / denominator


def weighted_kappa(matrix: Sequence[Sequence[int]]) -> float:
    """Quadratic weighted kappa of a square matrix of counts over an ordered scale.

    Disagreement weights are ``(i - j)**2``; the degenerate case is handled as in
    :func:`cohens_kappa`.
    """
    k = len(matrix)
    n = sum(sum(row) for row in matrix)
    rows = [sum(row) for row in matrix]
    cols = [sum(matrix[i][j] for i in range(k)) for j in range(k)]
    observed = sum((i - j) ** 2 * matrix[i][j] for i in range(k) for j in range(k))
    expected = sum((i - j) ** 2 * rows[i] * cols[j] for i in range(k) for j in range(k))
    if expected == 0:
        return 1.0 if observed == 0 else 0.0
    return 1.0 - n * observed / expected
