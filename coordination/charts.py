"""Bar charts as inline SVG, drawn on the server: no script, no CDN, readable without
colour (each bar carries its value in a <title>, and a table follows every chart)."""

from __future__ import annotations

from django.utils.html import escape
from django.utils.safestring import mark_safe

from kernel.money import format_cents

# Drawn for a desk screen (two charts a row at 1280 px) and still legible on a phone:
# the text is 14 units high in a 640-unit-wide picture.
WIDTH, HEIGHT = 640, 300
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 96, 12, 16, 52
GRID_LINES = 4


def bar_chart(points: list[tuple[str, int]], *, title: str, css_class: str = "", unit: str = "€",
              x_label: str = "") -> str:
    """`points` are (label, cents); negative values are drawn as zero-height bars. The
    vertical axis is graduated in `unit` (euros or the fund's unit), the horizontal one
    named `x_label` (months)."""
    n = max(len(points), 1)
    top = max([value for _label, value in points] + [1])
    plot_w, plot_h = WIDTH - PAD_LEFT - PAD_RIGHT, HEIGHT - PAD_TOP - PAD_BOTTOM
    slot = plot_w / n
    bar = max(slot * 0.7, 2)
    base = HEIGHT - PAD_BOTTOM
    parts = [
        f'<svg class="chart {escape(css_class)}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>',
    ]
    for step in range(GRID_LINES + 1):  # the vertical axis: graduations in the unit
        value = top * step / GRID_LINES
        y = base - plot_h * step / GRID_LINES
        parts.append(f'<line x1="{PAD_LEFT}" y1="{y:.1f}" x2="{WIDTH - PAD_RIGHT}" y2="{y:.1f}" '
                     f'class="{"axis" if step == 0 else "gridline"}"/>')
        parts.append(f'<text x="{PAD_LEFT - 6}" y="{y + 5:.1f}" text-anchor="end" class="tick">'
                     f"{escape(format_cents(round(value), unit))}</text>")
    parts.append(f'<line x1="{PAD_LEFT}" y1="{PAD_TOP}" x2="{PAD_LEFT}" y2="{base}" class="axis"/>')
    for index, (label, value) in enumerate(points):
        h = plot_h * max(value, 0) / top
        x = PAD_LEFT + index * slot + (slot - bar) / 2
        parts.append(
            f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{bar:.1f}" height="{h:.1f}" class="bar">'
            f"<title>{escape(label)} : {escape(format_cents(value, unit))}</title></rect>"
        )
        if n <= 12 or index % 2 == 0:
            parts.append(
                f'<text x="{PAD_LEFT + index * slot + slot / 2:.1f}" y="{base + 20}" text-anchor="middle" class="tick">'
                f"{escape(label[-2:] if len(label) == 7 else label)}</text>"
            )
    if x_label:
        parts.append(f'<text x="{PAD_LEFT + plot_w / 2:.1f}" y="{HEIGHT - 8}" text-anchor="middle" class="axis-label">'
                     f"{escape(x_label)}</text>")
    parts.append("</svg>")
    return mark_safe("".join(parts))
