"""Bar charts drawn on the server as SVG: no JavaScript, readable by screen readers, printable.

Each chart is an <svg role="img"> labelled by its own <title> and <desc> (the desc says every
bar in words); the page shows the same numbers in a table next to it, so the chart is never the
only way to read them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

ROW_HEIGHT = 28
LABEL_WIDTH = 210
BAR_WIDTH = 360
VALUE_WIDTH = 90
BAR_FILL = "#1d70b8"  # GOV.UK blue: contrast 5.2:1 on white
TRACK_FILL = "#f3f2f1"
TEXT_FILL = "#0b0c0c"


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str  # how the value is read out, e.g. "83% (10 of 12)"


def bar_chart(
    chart_id: str, title: str, bars: Sequence[Bar], maximum: float | None = None
) -> Markup:
    """A horizontal bar chart; `maximum` fixes the scale (100 for percentages)."""
    top = max([maximum or 0, *(b.value for b in bars), 1])
    height = ROW_HEIGHT * max(len(bars), 1) + 8
    width = LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH
    said = "; ".join(f"{b.label}: {b.text}" for b in bars) or "No figures for this period."
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="app-chart" '
        f'viewBox="0 0 {width} {height}" width="100%" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(said)}</desc>',
    ]
    for i, bar in enumerate(bars):
        y = 4 + i * ROW_HEIGHT
        length = 0 if top <= 0 else round(BAR_WIDTH * bar.value / top, 1)
        label = bar.label if len(bar.label) <= 30 else bar.label[:29] + "…"
        parts += [
            f'<text x="{LABEL_WIDTH - 8}" y="{y + 18}" text-anchor="end" font-size="14" '
            f'fill="{TEXT_FILL}">{escape(label)}</text>',
            f'<rect x="{LABEL_WIDTH}" y="{y + 4}" width="{BAR_WIDTH}" height="{ROW_HEIGHT - 8}" '
            f'fill="{TRACK_FILL}"/>',
            f'<rect x="{LABEL_WIDTH}" y="{y + 4}" width="{length}" height="{ROW_HEIGHT - 8}" '
            f'fill="{BAR_FILL}"/>',
            f'<text x="{LABEL_WIDTH + BAR_WIDTH + 8}" y="{y + 18}" font-size="14" '
            f'fill="{TEXT_FILL}">{escape(bar.text)}</text>',
        ]
    parts.append("</svg>")
    return Markup("".join(parts))
