"""The quarterly chart: a community's weekly trends as a PNG a lead can read on a phone.

Drawn with matplotlib's Agg canvas on a `Figure` of its own (no pyplot, so no global state shared
between threads). matplotlib is imported inside `weekly_chart` only: it costs tens of megabytes, and a
process that never draws a chart should not carry it.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

WIDTH, HEIGHT, DPI = 1200, 1000, 150  # pixels: about 3:2.5, so it fills a phone's width and stays legible
SERIES = (  # (label, colour): colour-blind-safe (Okabe-Ito)
    ("Contributions", "#0072B2"),
    ("People contributing", "#E69F00"),
    ("Attendances", "#009E73"),
)
LEGEND = "bars: contributions per week; lines: people contributing and attendances per week"


def weekly_chart(
    weeks: Sequence[tuple[datetime, int, int, int]],
    *,
    title: str,
    zone: str,
    goals: str = "",
) -> bytes:
    """A PNG of WIDTH x HEIGHT pixels: one bar per week (contributions), a line each for the people
    contributing and the attendances, weeks dated in `zone`, and the charter's learning goals below."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(WIDTH / DPI, HEIGHT / DPI), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    goal_lines = _goal_lines(goals)
    plot, notes = figure.subplots(2, 1, height_ratios=[4.2, 0.45 + 0.28 * len(goal_lines)])
    labels = [start.astimezone(ZoneInfo(zone)).strftime("%-d %b") for start, *_ in weeks]
    positions = range(len(weeks))
    series = list(zip(*(values for _, *values in weeks), strict=True)) if weeks else [(), (), ()]
    (bar_label, bar_colour), *lines = SERIES
    bars = plot.bar(positions, series[0], color=bar_colour, width=0.62, label=bar_label, zorder=2)
    handles = [bars]
    for (label, colour), values in zip(lines, series[1:], strict=True):
        (line,) = plot.plot(positions, values, color=colour, marker="o", linewidth=3, markersize=7)
        line.set_label(label)
        handles.append(line)
    # Each bar's value on top of it, on a white patch so a line crossing it cannot hide it.
    patch = {"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none"}
    tops = [str(v) if v else "" for v in series[0]]
    plot.bar_label(bars, labels=tops, padding=3, fontsize=11, weight="bold", color=bar_colour, bbox=patch)
    plot.set_title(title, fontsize=16, fontweight="bold", loc="left", pad=34)
    plot.set_ylabel("Per week", fontsize=12)
    plot.set_xlabel(f"Week starting ({zone})", fontsize=12)
    plot.set_xticks(list(positions), labels, rotation=45, ha="right", fontsize=11)
    plot.tick_params(axis="y", labelsize=11)
    plot.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=6))
    plot.set_ylim(0, max(4, *(max(s, default=0) for s in series)) * 1.15)
    plot.set_xlim(-0.6, max(len(weeks), 1) - 0.4)
    plot.grid(axis="y", color="#dde1e6", zorder=0)
    plot.spines[["top", "right"]].set_visible(False)
    plot.legend(handles=handles, loc="lower left", bbox_to_anchor=(0, 1.0), ncols=3, frameon=False,
                fontsize=12, borderaxespad=0.3, handlelength=1.5, columnspacing=1.4)  # fmt: skip
    notes.axis("off")
    notes.text(0, 1, "Charter goals", fontsize=13, fontweight="bold", va="top", transform=notes.transAxes)

    step = 1 / (1 + len(goal_lines))
    for n, line in enumerate(goal_lines, start=1):  # one text each: even spacing whatever the glyphs
        notes.text(0, 1 - n * step, line, fontsize=12, va="top", transform=notes.transAxes)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def _goal_lines(goals: str, *, width: int = 78, most: int = 5) -> list[str]:
    """The charter's learning goals as short bullet lines (the first `most`, each cut to one line)."""
    items = [line.strip(" -•*\t") for line in goals.splitlines() if line.strip(" -•*\t")]
    if not items:
        return ["None written yet: a lead adds them with /cop setup."]
    shown = [f"• {textwrap.shorten(item, width, placeholder='…')}" for item in items[:most]]
    if len(items) > most:
        shown.append(f"…and {len(items) - most} more in the charter")
    return shown
