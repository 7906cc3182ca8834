"""Charts drawn on the server as SVG: they obey the strict CSP (no script), follow the theme
through CSS classes, and come with a text alternative. Every chart in Folio uses this module."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Sparkline:
    """A line over ``values`` scaled into a ``width`` x ``height`` box (SVG user units)."""

    points: str
    area: str
    width: int
    height: int
    peak: int
    total: int


def sparkline(values: Sequence[int | float], *, width: int = 240, height: int = 48, pad: int = 3) -> Sparkline:
    """The polyline (and the area under it) for ``values``; a flat line along the bottom when
    every value is zero, so an empty history still reads as "nothing yet"."""
    values = list(values) or [0]
    peak = max(values)
    step = (width - 2 * pad) / max(1, len(values) - 1)
    span = height - 2 * pad

    def y(value: float) -> float:
        return height - pad - (value / peak * span if peak else 0)

    coords = [(pad + i * step, y(v)) for i, v in enumerate(values)]
    points = " ".join(f"{x:.1f},{yy:.1f}" for x, yy in coords)
    area = f"{coords[0][0]:.1f},{height - pad} {points} {coords[-1][0]:.1f},{height - pad}"
    return Sparkline(points, area, width, height, int(peak), int(sum(values)))


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: int


@dataclass(frozen=True)
class BarChart:
    """Bars over ``values`` in a ``width`` x ``height`` box; ``ticks`` label a few bars below."""

    bars: tuple[Bar, ...]
    width: int
    height: int
    peak: int
    total: int
    ticks: tuple[tuple[float, str], ...]


def bar_chart(
    rows: Sequence[tuple[str, int]], *, width: int = 600, height: int = 160, pad: int = 4, ticks: int = 5
) -> BarChart:
    """Bars for ``(label, value)`` rows, oldest first; an empty history draws no bars, so the
    page can show its empty state instead of a flat line."""
    rows = list(rows)
    peak = max((value for _, value in rows), default=0)
    slot = (width - 2 * pad) / max(1, len(rows))
    gap = min(4.0, slot * 0.2)
    span = height - 2 * pad
    bars = []
    for i, (label, value) in enumerate(rows):
        bar_height = value / peak * span if peak else 0
        bars.append(Bar(pad + i * slot + gap / 2, height - pad - bar_height, slot - gap, bar_height, label, value))
    every = max(1, -(-len(rows) // ticks))
    marks = tuple((bar.x + bar.width / 2, bar.label) for bar in bars[::every])
    return BarChart(tuple(bars), width, height, peak, sum(v for _, v in rows), marks)
