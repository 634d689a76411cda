"""Charts drawn on the server as SVG (no script, no library, nothing from elsewhere): stacked
bars of tasks per hour by outcome, and horizontal bars of counts. Every mark has a ``<title>``
(its numbers, for a pointer and a screen reader) and the chart a ``<title>`` and ``<desc>``;
colours are presentation attributes, so the console's style policy (no inline styles) holds."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape

from markupsafe import Markup

from openassist.server.service.overview import OUTCOMES, HourBar

COLOURS = {"succeeded": "#1a7f37", "failed": "#b3261e", "stopped": "#8c959f", "running": "#0b5cad"}
WIDTH, HEIGHT = 760, 220
LEFT, BOTTOM, TOP = 44, 26, 10


def _hour(ms: int, with_day: bool) -> str:
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return moment.strftime("%a %d %H:00" if with_day else "%H:00")


def _mark(counts: dict[str, int]) -> str:
    return ", ".join(f"{counts[o]} {o}" for o in OUTCOMES if counts[o]) or "no task"


def hour_bars(bars: Sequence[HourBar], chart_id: str, title: str) -> Markup:
    """Stacked bars, one per hour, oldest on the left; the y axis from 0 to the busiest hour."""
    week = len(bars) > 48
    top = max((b.total for b in bars), default=0) or 1
    plot_w, plot_h = WIDTH - LEFT - 8, HEIGHT - BOTTOM - TOP
    step = plot_w / max(1, len(bars))
    total = {o: sum(b.counts[o] for b in bars) for o in OUTCOMES}
    desc = f"{sum(total.values())} tasks: {_mark(total)}; the busiest hour had {top}."
    parts = [
        f'<svg class="chart" id="{chart_id}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-t">{escape(title)}</title>',
        f'<desc id="{chart_id}-d">{escape(desc)}</desc>',
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - 8}" y2="{TOP + plot_h}" '
        'stroke="#8c959f"/>',
        f'<text x="{LEFT - 6}" y="{TOP + 10}" text-anchor="end" font-size="11">{top}</text>',
        f'<text x="{LEFT - 6}" y="{TOP + plot_h}" text-anchor="end" font-size="11">0</text>',
    ]
    for index, bar in enumerate(bars):
        x = LEFT + index * step
        y = float(TOP + plot_h)
        label = f"{_hour(bar.start, True)} UTC: {_mark(bar.counts)}"
        parts.append(f'<g class="bar" data-total="{bar.total}"><title>{escape(label)}</title>')
        for outcome in OUTCOMES:
            height = plot_h * bar.counts[outcome] / top
            if height <= 0:
                continue
            y -= height
            parts.append(
                f'<rect x="{x + 0.5:.1f}" y="{y:.1f}" width="{max(1.0, step - 1):.1f}" '
                f'height="{height:.1f}" fill="{COLOURS[outcome]}" data-outcome="{outcome}"/>'
            )
        parts.append("</g>")
        every = 24 if week else 6
        if index % every == 0:
            parts.append(
                f'<text x="{x:.1f}" y="{HEIGHT - 8}" font-size="11">'
                f"{escape(_hour(bar.start, week))}</text>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every text above went through escape)


def count_bars(items: Sequence[tuple[str, int, str]], chart_id: str, title: str) -> Markup:
    """Horizontal bars: (label, count, colour), longest first as given."""
    row, label_w = 24, 220
    height = TOP + row * max(1, len(items)) + 4
    top = max((n for _, n, _ in items), default=0) or 1
    plot_w = WIDTH - label_w - 60
    desc = "; ".join(f"{label}: {n}" for label, n, _ in items) or "nothing to count"
    parts = [
        f'<svg class="chart" id="{chart_id}" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-t">{escape(title)}</title>',
        f'<desc id="{chart_id}-d">{escape(desc)}</desc>',
    ]
    for index, (label, count, colour) in enumerate(items):
        y = TOP + index * row
        width = plot_w * count / top
        parts.append(
            f'<g class="bar" data-total="{count}"><title>{escape(label)}: {count}</title>'
            f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end" font-size="12">'
            f"{escape(label)}</text>"
            f'<rect x="{label_w}" y="{y + 3}" width="{max(1.0, width):.1f}" height="{row - 8}" '
            f'fill="{colour}"/>'
            f'<text x="{label_w + width + 6:.1f}" y="{y + 15}" font-size="12">{count}</text></g>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every text above went through escape)
