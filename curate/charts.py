"""Small inline-SVG charts, the only SVG writer: horizontal bars, vertical columns, and bars with
error bars (the ablation's plot, `train.ablation_table`).

Written by hand rather than with a plotting library so that the report needs nothing beyond the
core install and opens anywhere with no network: each chart is one `<svg>` element in the page.
Every chart carries `class="chart"` and `data-chart=NAME`, which the browser test looks for.
"""

from __future__ import annotations

from html import escape

PALETTE = ("#4C78A8", "#F58518", "#54A24B", "#B279A2", "#E45756")
WIDTH = 760
FONT = 12
CHAR_W = 6.6  # average glyph width at FONT px in the report's sans-serif font, for label room


def _number(value: float) -> str:
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.1f}" if abs(value) >= 10 else f"{value:,.2f}"


def _open(name: str, title: str, height: float) -> list[str]:
    return [f'<svg class="chart" data-chart="{escape(name)}" xmlns="http://www.w3.org/2000/svg" '
            f'width="{WIDTH}" height="{height:.0f}" viewBox="0 0 {WIDTH} {height:.0f}" role="img" '
            f'aria-label="{escape(title)}" font-family="sans-serif" font-size="{FONT}">',
            f"<title>{escape(title)}</title>"]


def _legend(series: list[str], y: float) -> list[str]:
    parts, x = [], 10.0
    for i, name in enumerate(series):
        parts.append(f'<rect x="{x:.0f}" y="{y - 10:.0f}" width="12" height="12" fill="{PALETTE[i % len(PALETTE)]}"/>')
        parts.append(f'<text x="{x + 16:.0f}" y="{y:.0f}">{escape(name)}</text>')
        x += 16 + len(name) * CHAR_W + 24
    return parts


def _clip(label: str, chars: int) -> str:
    return label if len(label) <= chars else label[:chars - 1] + "…"


def hbars(name: str, title: str, labels: list[str], series: dict[str, list[float]],
          unit: str = "") -> str:
    """One row per label, one bar per series in it; values printed at the bar ends."""
    names = list(series)
    bar, gap = 14, 10
    legend_h = 24 if len(names) > 1 else 0
    shown = [_clip(str(label), 48) for label in labels]
    left = min(360, 12 + CHAR_W * max((len(s) for s in shown), default=4))
    right = 90  # room for the value printed after the longest bar
    top = 8 + legend_h
    height = top + len(labels) * (len(names) * bar + gap) + 8
    peak = max((v for vals in series.values() for v in vals if v is not None), default=0) or 1
    span = WIDTH - left - right
    parts = _open(name, title, height)
    if legend_h:
        parts += _legend(names, 18)
    y = top
    for i, label in enumerate(shown):
        full = escape(str(labels[i]))
        parts.append(f'<text x="{left - 6:.0f}" y="{y + len(names) * bar / 2 + 4:.0f}" '
                     f'text-anchor="end"><title>{full}</title>{escape(label)}</text>')
        for j, key in enumerate(names):
            value = series[key][i] or 0
            w = max(span * value / peak, 1 if value else 0)
            parts.append(f'<rect x="{left:.0f}" y="{y:.0f}" width="{w:.1f}" height="{bar - 2}" '
                         f'fill="{PALETTE[j % len(PALETTE)]}"><title>{full} · {escape(key)}: '
                         f'{_number(value)}{escape(unit)}</title></rect>')
            parts.append(f'<text x="{left + w + 4:.1f}" y="{y + bar - 4:.0f}" fill="#333">'
                         f'{_number(value)}{escape(unit)}</text>')
            y += bar
        y += gap
    parts.append("</svg>")
    return "\n".join(parts)


def columns(name: str, title: str, labels: list[str], series: dict[str, list[float]],
            x_title: str = "", y_title: str = "") -> str:
    """Vertical columns over ordered buckets (a histogram), one column per series in each."""
    names = list(series)
    legend_h = 24 if len(names) > 1 else 0
    left, right, top, bottom = 64, 12, 14 + legend_h, 58
    plot_h = 200
    height = top + plot_h + bottom
    peak = max((v for vals in series.values() for v in vals if v is not None), default=0) or 1
    slot = (WIDTH - left - right) / max(len(labels), 1)
    col = max(min(slot * 0.8 / len(names), 40), 1)
    parts = _open(name, title, height)
    if legend_h:
        parts += _legend(names, 18)
    base = top + plot_h
    for frac in (0, 0.5, 1):  # a light scale: zero, half and the peak
        y = base - plot_h * frac
        parts.append(f'<line x1="{left}" x2="{WIDTH - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
        tick = peak * frac
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#555">'
                     f'{_number(round(tick) if peak >= 10 else tick)}</text>')
    for i, label in enumerate(labels):
        x0 = left + slot * i + (slot - col * len(names)) / 2
        for j, key in enumerate(names):
            value = series[key][i] or 0
            h = plot_h * value / peak
            parts.append(f'<rect x="{x0 + j * col:.1f}" y="{base - h:.1f}" width="{col - 1:.1f}" '
                         f'height="{h:.1f}" fill="{PALETTE[j % len(PALETTE)]}"><title>{escape(str(label))} · '
                         f'{escape(key)}: {_number(value)}</title></rect>')
        # Every label when they fit, else every few: crowded labels overlap into noise.
        every = max(1, int(len(labels) * 7 * CHAR_W / (WIDTH - left - right)) + 1)
        if i % every == 0:
            parts.append(f'<text x="{left + slot * (i + 0.5):.1f}" y="{base + 16}" text-anchor="middle" '
                         f'fill="#333">{escape(_clip(str(label), 10))}</text>')
    if x_title:
        parts.append(f'<text x="{left + (WIDTH - left - right) / 2:.0f}" y="{base + 40}" '
                     f'text-anchor="middle" fill="#555">{escape(x_title)}</text>')
    if y_title:
        parts.append(f'<text x="14" y="{top + plot_h / 2:.0f}" text-anchor="middle" fill="#555" '
                     f'transform="rotate(-90 14 {top + plot_h / 2:.0f})">{escape(y_title)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def interval_bars(name: str, title: str, labels: list[str], means: list[float | None],
                  bounds: list[tuple[float, float] | None], dots: list[list[float]], texts: list[str]) -> str:
    """One horizontal bar per label at its mean (the first highlighted), an error bar over its
    `bounds` (an interval, or ± sd; None: none), a dot per value in `dots` (e.g. one per seed),
    and `texts` printed after each bar (the ablation's macro pass@1 per arm)."""
    left, top, bar_h, gap = 170, 28, 22, 12
    height = top + len(labels) * (bar_h + gap) + 34
    span = WIDTH - left - 90
    peak = max([1e-9, *(v for values in dots for v in values), *(b[1] for b in bounds if b is not None)])
    scale = span / max(peak * 1.1, 0.05)
    parts = _open(name, title, height)
    parts.append(f'<text x="10" y="16" fill="#333">{escape(title)}</text>')
    for i, label in enumerate(labels):
        y = top + i * (bar_h + gap)
        color = PALETTE[0] if i == 0 else "#9aa7b4"
        parts.append(f'<text x="{left - 8}" y="{y + bar_h / 2 + 4:.0f}" text-anchor="end">{escape(label)}</text>')
        parts.append(f'<rect x="{left}" y="{y}" width="{(means[i] or 0) * scale:.1f}" height="{bar_h}" '
                     f'fill="{color}"><title>{escape(label)}: {escape(texts[i])}</title></rect>')
        if bounds[i] is not None:
            lo, hi = bounds[i][0] * scale, bounds[i][1] * scale
            cy = y + bar_h / 2
            parts.append(f'<line class="error-bar" x1="{left + max(lo, 0):.1f}" x2="{left + hi:.1f}" y1="{cy}" '
                         f'y2="{cy}" stroke="#222" stroke-width="1.5"/>')
            for x in (max(lo, 0), hi):
                parts.append(f'<line x1="{left + x:.1f}" x2="{left + x:.1f}" y1="{cy - 5}" y2="{cy + 5}" '
                             f'stroke="#222" stroke-width="1.5"/>')
        for v in dots[i]:
            parts.append(f'<circle cx="{left + v * scale:.1f}" cy="{y + bar_h / 2}" r="3" fill="#E45756"/>')
        right = max([*dots[i], means[i] or 0, *([bounds[i][1]] if bounds[i] is not None else [])])
        parts.append(f'<text x="{left + right * scale + 8:.1f}" '
                     f'y="{y + bar_h / 2 + 4:.0f}" fill="#333">{escape(texts[i])}</text>')
    base = top + len(labels) * (bar_h + gap) + 4
    for frac in (0.0, 0.25, 0.5, 0.75, 1.0):
        if frac * scale > span + 1:
            break
        x = left + frac * scale
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top - 4}" y2="{base}" stroke="#ddd"/>')
        parts.append(f'<text x="{x:.1f}" y="{base + 14}" text-anchor="middle" fill="#555">{frac:g}</text>')
    parts.append("</svg>")
    return "\n".join(parts)
