"""Small server-rendered SVG charts for the staff dashboard: no JavaScript, no files.

Each function returns an inline `<svg>` with every text escaped; hovering a bar
shows its exact value (an SVG `<title>`), and the chart carries an aria-label.
"""

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

FONT = 'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif" font-size="11"'


@dataclass(frozen=True)
class Series:
    label: str
    color: str
    values: Sequence[float]


def _nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 times a power of ten that is at least `value`."""
    if value <= 0:
        return 1.0
    magnitude = 10.0 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude  # pragma: no cover - the loop always returns


def _number(value: float) -> str:
    if value == int(value):
        return f"{int(value):,}".replace(",", "\u2009")
    return f"{value:,.1f}".replace(",", "\u2009")


def bar_chart(
    *,
    title: str,
    labels: Sequence[str],
    series: Sequence[Series],
    stacked: bool = True,
    width: int = 760,
    height: int = 240,
    value_format: Callable[[float], str] = _number,
) -> SafeString:
    """Vertical bars, one group per label (a day), stacked or side by side."""
    left, right, top, bottom = 56, 12, 28, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    count = max(len(labels), 1)
    if stacked:
        peak = max((sum(s.values[i] for s in series) for i in range(len(labels))), default=0)
    else:
        peak = max((v for s in series for v in s.values), default=0)
    ceiling = _nice_ceiling(peak)
    slot = plot_w / count
    gap = min(slot * 0.2, 6)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
        f'role="img" aria-label="{escape(title)}" class="ops-chart">',
        f'<text x="{left}" y="16" {FONT} font-size="13" font-weight="600">{escape(title)}</text>',
    ]
    for i in range(5):
        value = ceiling * i / 4
        y = top + plot_h - plot_h * i / 4
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
        parts.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" {FONT} fill="#666">'
            f"{escape(value_format(value))}</text>"
        )
    bar_w = (slot - gap) if stacked else (slot - gap) / max(len(series), 1)
    for i, label in enumerate(labels):
        x0 = left + i * slot + gap / 2
        base = 0.0
        for j, s in enumerate(series):
            value = s.values[i]
            if value <= 0:
                continue
            h = plot_h * value / ceiling
            if stacked:
                x, y = x0, top + plot_h - plot_h * base / ceiling - h
                base += value
            else:
                x, y = x0 + j * bar_w, top + plot_h - h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(bar_w, 1):.1f}" height="{h:.1f}" fill="{s.color}">'
                f"<title>{escape(label)}: {escape(s.label)} {escape(value_format(value))}</title></rect>"
            )
    every = math.ceil(count / 12)
    for i, label in enumerate(labels):
        if i % every == 0:
            x = left + i * slot + slot / 2
            parts.append(
                f'<text x="{x:.1f}" y="{top + plot_h + 14}" text-anchor="middle" {FONT} fill="#666">'
                f"{escape(label)}</text>"
            )
    x = left
    for s in series:
        parts.append(f'<rect x="{x}" y="{height - 14}" width="10" height="10" fill="{s.color}"/>')
        parts.append(f'<text x="{x + 14}" y="{height - 5}" {FONT}>{escape(s.label)}</text>')
        x += 24 + 7 * len(s.label)
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped


def hbar_chart(
    *,
    title: str,
    rows: Sequence[tuple[str, float | None, str]],
    color: str,
    maximum: float | None = None,
    width: int = 370,
) -> SafeString:
    """Horizontal bars: (label, value or None, the value as text) per row."""
    row_h, left, right, top = 22, 120, 60, 28
    height = top + row_h * max(len(rows), 1) + 8
    ceiling = maximum or _nice_ceiling(max((v for _, v, _ in rows if v is not None), default=0))
    plot_w = width - left - right
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
        f'role="img" aria-label="{escape(title)}" class="ops-chart">',
        f'<text x="0" y="16" {FONT} font-size="13" font-weight="600">{escape(title)}</text>',
    ]
    for i, (label, value, text) in enumerate(rows):
        y = top + i * row_h
        parts.append(
            f'<text x="{left - 6}" y="{y + 14}" text-anchor="end" {FONT}>{escape(label[:20])}</text>'
        )
        w = 0.0 if value is None else plot_w * min(value, ceiling) / ceiling
        parts.append(
            f'<rect x="{left}" y="{y + 3}" width="{w:.1f}" height="{row_h - 8}" fill="{color}">'
            f"<title>{escape(label)}: {escape(text)}</title></rect>"
        )
        parts.append(f'<text x="{left + w + 4:.1f}" y="{y + 14}" {FONT} fill="#333">{escape(text)}</text>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped
