"""PNG figures of a :class:`Comparison` and a :class:`SweepResult` (``--figures DIR``).

A comparison gives one transition-matrix heatmap per hazard and overall and a bar chart of rule
firing-rate differences; a 1-D sweep gives stacked bars of the level shares per value, a 2-D
sweep a heatmap of the share at or above a level. matplotlib (the ``plots`` extra) is imported on
first use, and figures are drawn on its Agg canvas without any pyplot state.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from riskrules.errors import RiskRulesError
from riskrules.research._results import (
    OVERALL,
    Agreement,
    Comparison,
    RuleRate,
    SweepResult,
    level_counts,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["comparison_figures", "sweep_figures"]


def _figure_library() -> tuple[Any, Any]:
    """matplotlib's Figure and Agg canvas, imported on first use (the ``plots`` extra)."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise RiskRulesError(
            "figures need matplotlib: install it with pip install 'riskrules[plots]'"
        ) from None
    return Figure, FigureCanvasAgg


def _save(figure: Figure, canvas_type: Any, path: Path) -> Path:
    canvas_type(figure)
    figure.savefig(path, format="png", dpi=100, metadata={"Software": None})
    return path


def _safe_name(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in text)


def _level_colours(k: int) -> list[tuple[float, float, float, float]]:
    from matplotlib import colormaps

    cmap = colormaps["YlOrRd"]
    return [tuple(cmap(0.15 + 0.8 * i / max(k - 1, 1))) for i in range(k)]  # type: ignore[misc]


def _transitions(figure_type: Any, result: Comparison, item: Agreement) -> Figure:
    """A heatmap of one transition matrix, counts written in the cells."""
    k = len(result.levels)
    fig: Figure = figure_type(figsize=(1.6 + 1.1 * k, 1.2 + 1.0 * k))
    ax = fig.add_subplot()
    image = ax.imshow(item.matrix, cmap="Blues")
    fig.colorbar(image, ax=ax, label="records")
    peak = max((v for row in item.matrix for v in row), default=0)
    for i, row in enumerate(item.matrix):
        for j, value in enumerate(row):
            colour = "white" if peak and value > peak / 2 else "black"
            ax.text(j, i, str(value), ha="center", va="center", color=colour)
    ax.set_xticks(range(k), result.levels, rotation=30)
    ax.set_yticks(range(k), result.levels)
    ax.set_xlabel(f"B: {result.b.ruleset}")
    ax.set_ylabel(f"A: {result.a.ruleset}")
    ax.set_title(f"{item.name}: kappa {item.kappa:.2f}, weighted {item.weighted_kappa:.2f}")
    fig.tight_layout()
    return fig


def _firing_rates(figure_type: Any, rules: tuple[RuleRate, ...]) -> Figure:
    """Horizontal bars of the firing-rate difference B - A of each rule whose rate changed."""
    rates = [r for r in rules if r.difference is not None and r.difference != 0]
    fig: Figure = figure_type(figsize=(7, 1.5 + 0.3 * max(len(rates), 1)))
    ax = fig.add_subplot()
    if rates:
        ax.barh(
            range(len(rates)),
            [100 * (r.difference or 0.0) for r in rates],
            color=["#b2182b" if (r.difference or 0) > 0 else "#2166ac" for r in rates],
        )
        ax.set_yticks(range(len(rates)), [r.rule for r in rates])
        ax.invert_yaxis()
    else:
        ax.text(0.5, 0.5, "no rule's firing rate changed", ha="center", va="center")
        ax.set_yticks([])
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel("firing rate B - A (percentage points)")
    ax.set_title("Rule firing-rate differences")
    fig.tight_layout()
    return fig


def comparison_figures(result: Comparison, out: Path) -> list[Path]:
    """Write ``transitions-<name>.png`` per hazard and overall and ``firing-rates.png`` into
    ``out`` (created if needed); return their paths."""
    figure_type, canvas = _figure_library()
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for item in (result.overall, *result.hazards):
        fig = _transitions(figure_type, result, item)
        path = out / f"transitions-{_safe_name(item.name)}.png"
        written.append(_save(fig, canvas, path))
    fig = _firing_rates(figure_type, result.rules)
    written.append(_save(fig, canvas, out / "firing-rates.png"))
    return written


def _bars(figure_type: Any, result: SweepResult, hazard: str) -> Figure:
    """Stacked bars of the level shares at each value of a 1-D sweep."""
    name = result.parameters[0]
    labels = [str(p.params[name]) for p in result.points]
    fig: Figure = figure_type(figsize=(1.5 + 0.6 * len(labels), 4))
    ax = fig.add_subplot()
    bottom = [0.0] * len(result.points)
    colours = _level_colours(len(result.levels))
    for lv, colour in zip(result.levels, colours, strict=True):
        shares = [level_counts(p, hazard)[lv] / result.records for p in result.points]
        ax.bar(labels, shares, bottom=bottom, label=lv, color=colour)
        bottom = [b + s for b, s in zip(bottom, shares, strict=True)]
    ax.set_ylim(0, 1)
    ax.set_xlabel(name)
    ax.set_ylabel("share of records")
    ax.set_title(f"{hazard}: level shares")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    return fig


def _heatmap(figure_type: Any, result: SweepResult, hazard: str, level: str) -> Figure:
    """A heatmap of the share at or above ``level`` over the grid of a 2-D sweep."""
    first, second = result.parameters
    xs, ys = result.values[second], result.values[first]
    shares = result.share_at_least(level, hazard)
    grid = [shares[i * len(xs) : (i + 1) * len(xs)] for i in range(len(ys))]
    fig: Figure = figure_type(figsize=(2.5 + 0.6 * len(xs), 1.5 + 0.5 * len(ys)))
    ax = fig.add_subplot()
    image = ax.imshow(grid, cmap="Reds", vmin=0, vmax=1, aspect="auto", origin="lower")
    fig.colorbar(image, ax=ax, label=f"share at or above {level}")
    for i, row in enumerate(grid):
        for j, share in enumerate(row):
            colour = "white" if share > 0.5 else "black"
            ax.text(j, i, f"{100 * share:.0f}%", ha="center", va="center", color=colour)
    ax.set_xticks(range(len(xs)), [str(x) for x in xs])
    ax.set_yticks(range(len(ys)), [str(y) for y in ys])
    ax.set_xlabel(second)
    ax.set_ylabel(first)
    ax.set_title(f"{hazard}: share at or above {level}")
    fig.tight_layout()
    return fig


def sweep_figures(result: SweepResult, out: Path, level: str | None) -> list[Path]:
    """Write ``sweep-<name>.png`` per hazard and overall into ``out`` and return their paths: bars
    for a 1-D sweep, a heatmap of the share at or above ``level`` (default: the second level of
    the scale) for a 2-D sweep."""
    figure_type, canvas = _figure_library()
    threshold = level if level is not None else result.levels[min(1, len(result.levels) - 1)]
    result.share_at_least(threshold)  # validates the level
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for hazard in (OVERALL, *result.hazards):
        if len(result.parameters) == 1:
            fig = _bars(figure_type, result, hazard)
        else:
            fig = _heatmap(figure_type, result, hazard, threshold)
        written.append(_save(fig, canvas, out / f"sweep-{_safe_name(hazard)}.png"))
    return written
