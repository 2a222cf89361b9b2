"""Geometry of the outcomes charts drawn as server-side SVG (``templates/outcomes/_charts.html``).

No script and no inline style: the strict CSP allows SVG presentation attributes and the classes of
``static/outcomes.css``. Every point and bar carries a ``<title>`` (the tooltip a mouse or a screen reader gets),
so the charts are interactive without JavaScript; the filters re-render them through HTMX.

Input is the report of ``services.outcomes`` (an ``OutcomesReport``, read by attribute) or one patient's dict, so the
charts show the JSON's numbers.
Timepoints are spaced evenly in plan order, as in the PDF (``reports/plots.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mildpath.reports.outcomes_pdf import fmt_num
from mildpath.services import outcomes_models as om
from mildpath.web.i18n import gettext

SHORT = {"baseline": "Before", "6w": "6 wk", "3m": "3 mo", "6m": "6 mo", "12m": "12 mo", "24m": "24 mo"}
W, H = 360, 220
LEFT, RIGHT, TOP, BOTTOM = 40, 12, 14, 46
INSET = 18  # the first and last timepoints sit this far inside the plot, so their labels are not clipped


def _ticks(low: float, high: float) -> list[float]:
    span = high - low
    step = 20.0 if span > 50 else (5.0 if span > 20 else (2.0 if span > 6 else (1.0 if span > 3 else 0.5)))
    out, value = [], low
    while value <= high + 1e-9:
        out.append(round(value, 2))
        value += step
    return out


class _Frame:
    """Maps data to SVG coordinates for a chart of ``n`` evenly spaced timepoints over ``low``..``high``."""

    def __init__(self, n: int, low: float, high: float, width: int = W, height: int = H) -> None:
        self.n, self.low, self.high, self.width, self.height = n, low, high, width, height
        self.plot_w = width - LEFT - RIGHT
        self.plot_h = height - TOP - BOTTOM

    def x(self, i: float) -> float:
        inner = self.plot_w - 2 * INSET
        return round(LEFT + INSET + (inner / 2 if self.n <= 1 else inner * i / (self.n - 1)), 1)

    def y(self, value: float | None) -> float:
        """The height of ``value`` (a row shown has its numbers; nothing sits on the axis)."""
        v = min(max(self.low if value is None else value, self.low), self.high)
        return round(TOP + self.plot_h * (1 - (v - self.low) / (self.high - self.low)), 1)

    def axes(self, labels: Sequence[str], at: Sequence[float] | None = None) -> dict[str, Any]:
        """The frame, its y ticks and the x labels: at the points' places (``x(0)``, ``x(1)`` ...) or ``at``."""
        xs = [self.x(i) for i in range(len(labels))] if at is None else at
        return {
            "width": self.width,
            "height": self.height,
            "left": LEFT,
            "right": self.width - RIGHT,
            "top": TOP,
            "bottom": self.height - BOTTOM,
            "y_ticks": [{"y": self.y(v), "text": f"{v:g}"} for v in _ticks(self.low, self.high)],
            "x_labels": [{"x": x, "text": t} for x, t in zip(xs, labels, strict=True)],
        }


def _measure(measures: Sequence[om.MeasureRow], measure: str) -> om.MeasureRow:
    return next(m for m in measures if m.id == measure)


def trajectory(report: om.OutcomesReport, measure: str) -> dict[str, Any]:
    """Median line, interquartile band (a polygon) and one dot per timepoint with its tooltip."""
    info = _measure(report.measures, measure)
    order = [t.id for t in report.timepoints]
    frame = _Frame(len(order), info.low, info.high)
    rows = [(order.index(r.timepoint), r) for r in report.trajectories[measure] if r.n]
    upper = [f"{frame.x(i)},{frame.y(r.q3)}" for i, r in rows]
    lower = [f"{frame.x(i)},{frame.y(r.q1)}" for i, r in reversed(rows)]
    unit = info.unit
    return {
        "id": f"trajectory-{measure}",
        "title": info.label,
        "better": "Higher is better" if info.higher_is_better else "Lower is better",
        **frame.axes([SHORT.get(t, t) for t in order]),
        "band": " ".join(upper + lower),
        "median": " ".join(f"{frame.x(i)},{frame.y(r.median)}" for i, r in rows),
        "dots": [
            {
                "x": frame.x(i),
                "y": frame.y(r.median),
                "n_y": frame.height - BOTTOM + 30,
                "n": r.n,
                "tip": f"{r.label}: median {fmt_num(r.median)} {unit} "
                f"(interquartile range {fmt_num(r.q1)} to {fmt_num(r.q3)}), n = {r.n}",
            }
            for i, r in rows
        ],
        "empty": not rows,
    }


def responder_bars(report: om.OutcomesReport, definitions: Sequence[str]) -> dict[str, Any]:
    """Grouped bars (one group per follow-up timepoint) with whiskers for the 95 % Wilson interval."""
    timepoints = [t for t in report.timepoints if t.after_procedure]
    labels = {d.id: d.label for d in report.responder_definitions}
    frame = _Frame(len(timepoints), 0, 100, width=560, height=240)
    group = frame.plot_w / max(1, len(timepoints))
    bar = group * 0.8 / max(1, len(definitions))
    bars = []
    for k, definition in enumerate(definitions):
        rows = {r.timepoint: r for r in report.responders[definition]}
        for j, tp in enumerate(timepoints):
            r = rows.get(tp.id)
            if r is None or r.percent is None:
                continue
            x = round(LEFT + group * j + group * 0.1 + bar * k, 1)
            top = frame.y(r.percent)
            bars.append(
                {
                    "x": x,
                    "y": top,
                    "w": round(bar * 0.9, 1),
                    "h": round(frame.y(0) - top, 1),
                    "css": f"series-{k}",
                    "cx": round(x + bar * 0.45, 1),
                    "y_low": frame.y(r.percent if r.ci_low is None else r.ci_low),
                    "y_high": frame.y(r.percent if r.ci_high is None else r.ci_high),
                    "tip": f"{labels.get(definition, definition)}, {tp.label}: {fmt_num(r.percent, 1)}% "
                    f"({fmt_num(r.ci_low, 1)} to {fmt_num(r.ci_high, 1)}), {r.events} of {r.n}",
                }
            )
    at = [round(LEFT + group * (j + 0.5), 1) for j in range(len(timepoints))]
    return {
        "id": "responder-bars",
        **frame.axes([SHORT.get(t.id, t.label) for t in timepoints], at),
        "bars": bars,
        "legend": [{"css": f"series-{k}", "text": labels.get(d, d)} for k, d in enumerate(definitions)],
    }


def survival(report: om.OutcomesReport, endpoint: str = "any") -> dict[str, Any]:
    """The Kaplan-Meier step curve, its confidence band and tooltips at each step."""
    s: om.SurvivalEndpoint = getattr(report.survival, endpoint)
    curve = s.curve
    last_month = max([p.days / 30.4375 for p in curve] + [6.0])
    span = 6 * (int(last_month // 6) + 1)
    frame = _Frame(2, 0, 100, width=560, height=240)

    def x(days: float) -> float:
        return round(LEFT + frame.plot_w * (days / 30.4375) / span, 1)

    months = range(0, span + 1, 6)
    step, upper, lower = [], [], []
    for i, p in enumerate(curve):
        px, py = x(p.days), frame.y(100 * p.survival)
        if i == 0:
            step.append(f"M{px},{py}")
        else:
            step.append(f"H{px} V{py}")
        hi = p.ci_high if p.ci_high is not None else p.survival
        lo = p.ci_low if p.ci_low is not None else p.survival
        nxt = x(curve[i + 1].days) if i + 1 < len(curve) else px
        upper += [f"{px},{frame.y(100 * hi)}", f"{nxt},{frame.y(100 * hi)}"]
        lower += [f"{px},{frame.y(100 * lo)}", f"{nxt},{frame.y(100 * lo)}"]
    return {
        "id": f"survival-{endpoint}",
        "title": s.label,
        **frame.axes([f"{m}" for m in months], [x(m * 30.4375) for m in months]),
        "path": " ".join(step),
        "band": " ".join(upper + list(reversed(lower))),
        "dots": [
            {
                "x": x(p.days),
                "y": frame.y(100 * p.survival),
                "tip": f"Day {p.days}: {fmt_num(100 * p.survival, 1)}% free of reintervention"
                + (
                    f" ({fmt_num(100 * p.ci_low, 1)} to {fmt_num(100 * p.ci_high, 1)})"
                    if p.ci_low is not None and p.ci_high is not None
                    else ""
                )
                + f", {p.at_risk} at risk",
            }
            for p in curve
        ],
        "empty": not curve,
        "events": s.events,
        "n": s.n,
    }


def patient_lines(outcomes: om.PatientOutcomes) -> list[dict[str, Any]]:
    """One small chart per measure of one patient: their own line, a dot per answered timepoint, in the language
    set for the page (``i18n.set_language``: a patient reads these)."""
    order = [t.id for t in outcomes.timepoints]
    charts = []
    for k, info in enumerate(outcomes.measures):
        points = outcomes.series[info.id]
        frame = _Frame(len(order), info.low, info.high, width=340, height=190)
        xy = [(frame.x(order.index(p.timepoint)), frame.y(p.value), p) for p in points]
        charts.append(
            {
                "id": f"patient-{info.id}",
                "title": gettext(info.label),
                "better": gettext("Higher is better") if info.higher_is_better else gettext("Lower is better"),
                **frame.axes([gettext(SHORT.get(t, t)) for t in order]),
                "css": f"series-{k % 7}",
                "line": " ".join(f"{x},{y}" for x, y, _ in xy),
                "dots": [
                    {
                        "x": x,
                        "y": y,
                        "tip": f"{gettext(p.label)}: {fmt_num(p.value)} {gettext(info.unit)}"
                        + (", " + gettext("answered %(day)s") % {"day": p.answered_on} if p.answered_on else ""),
                    }
                    for x, y, p in xy
                ],
            }
        )
    return charts
