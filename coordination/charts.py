"""Bar charts as inline SVG, drawn on the server: no script, no CDN, readable without
colour (each bar carries its value in a <title>, and a table follows every chart)."""

from __future__ import annotations

from django.utils.html import escape
from django.utils.safestring import mark_safe

from kernel.money import format_cents

WIDTH, HEIGHT, PAD_BOTTOM, PAD_TOP = 360, 140, 28, 12


def bar_chart(points: list[tuple[str, int]], *, title: str, css_class: str = "") -> str:
    """`points` are (label, cents); negative values are drawn as zero-height bars."""
    n = max(len(points), 1)
    top = max([value for _label, value in points] + [1])
    slot = WIDTH / n
    bar = max(slot * 0.7, 2)
    plot = HEIGHT - PAD_BOTTOM - PAD_TOP
    parts = [
        f'<svg class="chart {escape(css_class)}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>',
        f'<line x1="0" y1="{HEIGHT - PAD_BOTTOM}" x2="{WIDTH}" y2="{HEIGHT - PAD_BOTTOM}" class="axis"/>',
    ]
    for index, (label, value) in enumerate(points):
        h = plot * max(value, 0) / top
        x = index * slot + (slot - bar) / 2
        y = HEIGHT - PAD_BOTTOM - h
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" class="bar">'
            f"<title>{escape(label)} : {escape(format_cents(value))}</title></rect>"
        )
        if n <= 12 or index % 2 == 0:
            parts.append(
                f'<text x="{index * slot + slot / 2:.1f}" y="{HEIGHT - 10}" text-anchor="middle" class="tick">'
                f"{escape(label[-2:] if len(label) == 7 else label)}</text>"
            )
    parts.append(f'<text x="2" y="{PAD_TOP - 2}" class="tick">{escape(format_cents(top))}</text></svg>')
    return mark_safe("".join(parts))
