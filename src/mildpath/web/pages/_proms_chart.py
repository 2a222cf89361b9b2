"""Geometry of the small trend chart drawn as server-side SVG (no script, no inline style: the strict CSP allows
SVG presentation attributes and the classes of ``static/proms.css``).

Timepoints are spaced evenly along the x axis in the order answered (a phone-sized chart reads better by visit
than by calendar); the y axis spans the measure's whole range, so a line going down means a lower score.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mildpath.services.proms import Trend

WIDTH, HEIGHT = 320, 180
LEFT, RIGHT, TOP, BOTTOM = 34, 26, 12, 30
SHORT_LABELS = {"baseline": "Before", "6w": "6 wk", "3m": "3 mo", "6m": "6 mo", "12m": "12 mo", "24m": "24 mo"}


@dataclass(frozen=True)
class Dot:
    x: float
    y: float
    value: float


@dataclass(frozen=True)
class Series:
    label: str
    css: str
    points: str
    dots: tuple[Dot, ...]


def _ticks(low: float, high: float) -> list[float]:
    span = high - low
    step = 20.0 if span > 50 else (5.0 if span > 20 else (2.0 if span > 6 else 1.0))
    value, out = low, []
    while value <= high + 1e-9:
        out.append(round(value, 2))
        value += step
    return out


def chart(trend: Trend) -> dict[str, Any]:
    """Everything ``proms/_trend.html`` needs to draw ``trend``: series polylines and dots, axis ticks, labels."""
    low = min(m.low for m in trend.measures)
    high = max(m.high for m in trend.measures)
    n = len(trend.points)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x_at(i: int) -> float:
        return round(LEFT + (plot_w / 2 if n == 1 else plot_w * i / (n - 1)), 1)

    def y_at(v: float) -> float:
        return round(TOP + plot_h * (1 - (v - low) / (high - low)), 1)

    series = []
    for index, measure in enumerate(trend.measures):
        dots = tuple(
            Dot(x_at(i), y_at(value), value)
            for i, point in enumerate(trend.points)
            if (value := point.values.get(measure.key)) is not None
        )
        if dots:
            points = " ".join(f"{d.x},{d.y}" for d in dots)
            series.append(Series(measure.label, f"series-{index}", points, dots))
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "top": TOP,
        "bottom": HEIGHT - BOTTOM,
        "y_ticks": [{"y": y_at(v), "text": f"{v:g}"} for v in _ticks(low, high)],
        "x_labels": [
            {"x": x_at(i), "text": SHORT_LABELS.get(p.timepoint, p.timepoint)} for i, p in enumerate(trend.points)
        ],
        "series": series,
        "higher_is_better": all(m.higher_is_better for m in trend.measures),
    }
