"""Static charts for reports (PNG or SVG bytes) from the outcomes report (``services.outcomes_models.OutcomesReport``,
read by attribute; its type is not imported: reports sit below services).

matplotlib is imported inside each function and used through :class:`matplotlib.figure.Figure` with the Agg
canvas (no ``pyplot`` global state: safe in a web worker thread). Output is deterministic for the same input
(no timestamps in the files, a fixed SVG hash salt), so a report can be compared byte for byte.

Charts:

- :func:`trajectory_chart` / :func:`trajectories_grid`: median and interquartile band per timepoint;
- :func:`responder_bars`: responder shares per timepoint with their 95 % intervals;
- :func:`survival_chart`: the Kaplan-Meier reintervention-free curve with its band and the numbers at risk;
- :func:`patient_lines`: one patient's own scores over time, one line per measure.

Timepoints are spaced evenly in plan order (baseline, 6 weeks, 3, 6, 12, 24 months): by visit, not by calendar, so
the early visits stay readable.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

#: ``services.outcomes_models.OutcomesReport`` (not imported: the reports layer sits below services).
Report = Any
#: ``services.outcomes_models.PatientOutcomes`` (one patient's trajectory; not imported either).
PatientOutcomes = Any
FORMATS = ("png", "svg")
BLUE, ORANGE, GREEN, PURPLE, GREY, RED = "#1f5fa8", "#c25400", "#2a7d3b", "#6b3fa0", "#555555", "#a11d1d"
PALETTE = (BLUE, ORANGE, GREEN, PURPLE, RED, GREY, "#00838f")
SHORT = {"baseline": "Before", "6w": "6 wk", "3m": "3 mo", "6m": "6 mo", "12m": "12 mo", "24m": "24 mo"}


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    return fig


def _render(fig: Any, fmt: str) -> bytes:
    """The figure as PNG or SVG bytes, without timestamps (deterministic)."""
    import matplotlib

    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")
    buf = io.BytesIO()
    with matplotlib.rc_context({"svg.hashsalt": "mildpath", "svg.fonttype": "none", "font.size": 9}):
        if fmt == "svg":
            fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": "mildpath"})
        else:
            fig.savefig(buf, format="png", dpi=150, metadata={"Software": "mildpath"})
    return buf.getvalue()


def _style(ax: Any) -> None:
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)


def _measure(report: Report, measure: str) -> Any:
    for m in report.measures:
        if m.id == measure:
            return m
    raise KeyError(measure)


def _label_points(ax: Any, points: Sequence[tuple[float, float, str]], above: int, **style: Any) -> None:
    """A small centred label ``above`` points over each ``(x, y, text)``."""
    for x, y, text in points:
        ax.annotate(text, (x, y), textcoords="offset points", xytext=(0, above), ha="center", fontsize=7, **style)


def _draw_trajectory(ax: Any, report: Report, measure: str, color: str = BLUE) -> None:
    info = _measure(report, measure)
    rows = [r for r in report.trajectories[measure] if r.n]
    order = [t.id for t in report.timepoints]
    xs = [order.index(r.timepoint) for r in rows]
    if rows:
        ax.fill_between(
            xs,
            [r.q1 for r in rows],
            [r.q3 for r in rows],
            color=color,
            alpha=0.18,
            linewidth=0,
            label="Interquartile range",
        )
        ax.plot(xs, [r.median for r in rows], color=color, marker="o", linewidth=2, label="Median")
        _label_points(ax, [(x, info.low, f"n={r.n}") for x, r in zip(xs, rows, strict=True)], 3, color=GREY)
    else:
        ax.text(0.5, 0.5, "No scores yet", transform=ax.transAxes, ha="center", va="center", color=GREY)
    ax.set_xticks(range(len(order)), [SHORT.get(t, t) for t in order])
    ax.set_xlim(-0.3, len(order) - 0.7)
    ax.set_ylim(info.low, info.high)
    better = "higher is better" if info.higher_is_better else "lower is better"
    ax.set_title(f"{info.label} ({better})", fontsize=9)
    ax.set_ylabel(info.unit)
    _style(ax)


def trajectory_chart(report: Report, measure: str, fmt: str = "png") -> bytes:
    """Median and interquartile band of one measure at each timepoint (``n`` under each point)."""
    fig = _figure(6.0, 3.4)
    ax = fig.add_subplot()
    _draw_trajectory(ax, report, measure)
    ax.legend(loc="upper right", fontsize=7, frameon=False)
    return _render(fig, fmt)


def trajectories_grid(
    report: Report,
    measures: Sequence[str] = ("odi", "nprs_back", "nprs_leg", "zcq_severity", "zcq_function", "walking"),
    fmt: str = "png",
) -> bytes:
    """Small multiples of :func:`trajectory_chart`, two per row."""
    rows = (len(measures) + 1) // 2
    fig = _figure(7.4, 2.5 * rows)
    for i, measure in enumerate(measures):
        ax = fig.add_subplot(rows, 2, i + 1)
        _draw_trajectory(ax, report, measure, PALETTE[i % len(PALETTE)])
    return _render(fig, fmt)


def responder_bars(
    report: Report,
    definitions: Sequence[str] = ("odi-points", "odi-relative", "nprs-back", "nprs-leg", "zcq-composite"),
    fmt: str = "png",
) -> bytes:
    """Responder shares (%) per follow-up timepoint, one bar per definition, with 95 % Wilson intervals."""
    labels = {d.id: d.label for d in report.responder_definitions}
    timepoints = [t for t in report.timepoints if t.after_procedure]
    fig = _figure(7.4, 3.6)
    ax = fig.add_subplot()
    width = 0.8 / max(1, len(definitions))
    for i, definition in enumerate(definitions):
        rows = {r.timepoint: r for r in report.responders[definition]}
        xs, heights, lows, highs = [], [], [], []
        for j, tp in enumerate(timepoints):
            r = rows.get(tp.id)
            if r is None or r.percent is None:
                continue
            xs.append(j - 0.4 + width * (i + 0.5))
            heights.append(r.percent)
            lows.append(r.percent - r.ci_low)
            highs.append(r.ci_high - r.percent)
        ax.bar(
            xs,
            heights,
            width * 0.92,
            color=PALETTE[i % len(PALETTE)],
            label=labels.get(definition, definition),
            yerr=[lows, highs],
            error_kw={"elinewidth": 0.8, "capsize": 2, "ecolor": "#333333"},
        )
    ax.set_xticks(range(len(timepoints)), [SHORT.get(t.id, t.label) for t in timepoints])
    ax.set_ylim(0, 105)
    ax.set_ylabel("responders (%)")
    ax.set_title("Responders by definition and timepoint (bars: 95% Wilson interval)", fontsize=9)
    ax.legend(fontsize=7, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2)
    _style(ax)
    return _render(fig, fmt)


def survival_chart(report: Report, endpoint: str = "any", fmt: str = "png") -> bytes:
    """The Kaplan-Meier reintervention-free curve (step), its 95 % band and the numbers at risk by 6 months."""
    survival = getattr(report.survival, endpoint)
    curve = survival.curve
    fig = _figure(7.4, 3.4)
    ax = fig.add_subplot()
    if curve:
        months = [p.days / 30.4375 for p in curve]
        ax.fill_between(
            months,
            [100 * (p.ci_low if p.ci_low is not None else p.survival) for p in curve],
            [100 * (p.ci_high if p.ci_high is not None else p.survival) for p in curve],
            step="post",
            color=BLUE,
            alpha=0.15,
            linewidth=0,
            label="95% confidence band",
        )
        ax.step(
            months,
            [100 * p.survival for p in curve],
            where="post",
            color=BLUE,
            linewidth=2,
            label=survival.label,
        )
        last = max(months)
        ticks = list(range(0, int(last) + 7, 6))
        ax.set_xticks(ticks)
        ax.set_xlim(0, max(6.0, last))
        at_risk = []
        for m in ticks:
            later = [p for p in curve if p.days / 30.4375 >= m]
            at_risk.append(str(later[0].at_risk) if later else "0")
        ax.set_xlabel(
            "months after the procedure\nat risk: "
            + "  ".join(f"{m} mo: {n}" for m, n in zip(ticks, at_risk, strict=True)),
            fontsize=8,
        )
    else:
        ax.text(
            0.5, 0.5, "No completed procedures", transform=ax.transAxes, ha="center", va="center", color=GREY
        )
    ax.set_ylim(0, 102)
    ax.set_ylabel("free of reintervention (%)")
    ax.set_title(
        f"{survival.label}: Kaplan-Meier, {survival.events} event(s) in {survival.n} procedures",
        fontsize=9,
    )
    if curve:  # a legend of nothing would only warn
        ax.legend(fontsize=7, frameon=False, loc="lower left")
    _style(ax)
    return _render(fig, fmt)


def patient_lines(outcomes: PatientOutcomes, fmt: str = "png") -> bytes:
    """One patient's scores over time (``services.outcomes.patient_outcomes``): a small chart per measure."""
    measures = outcomes.measures
    order = [t.id for t in outcomes.timepoints]
    rows = max(1, (len(measures) + 1) // 2)
    fig = _figure(7.4, 2.3 * rows)
    if not measures:
        ax = fig.add_subplot()
        ax.text(0.5, 0.5, "No questionnaire scores yet", transform=ax.transAxes, ha="center", va="center")
        ax.set_axis_off()
        return _render(fig, fmt)
    for i, m in enumerate(measures):
        ax = fig.add_subplot(rows, 2, i + 1)
        points = outcomes.series[m.id]
        xs = [order.index(p.timepoint) for p in points]
        color = PALETTE[i % len(PALETTE)]
        ax.plot(xs, [p.value for p in points], color=color, marker="o", linewidth=2)
        _label_points(ax, [(x, p.value, f"{p.value:g}") for x, p in zip(xs, points, strict=True)], 5)
        ax.set_xticks(range(len(order)), [SHORT.get(t, t) for t in order], fontsize=7)
        ax.set_xlim(-0.3, len(order) - 0.7)
        ax.set_ylim(m.low, m.high + (m.high - m.low) * 0.08)
        ax.set_title(f"{m.label} ({'higher' if m.higher_is_better else 'lower'} is better)", fontsize=8)
        _style(ax)
    return _render(fig, fmt)
