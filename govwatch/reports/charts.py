"""Charts of a notice drawn as PNG images (matplotlib, Agg), for the DOCX and so the PDF.

The web app draws the same figures with ECharts in the browser; a document needs a still
image, and matplotlib draws it in-process in tens of milliseconds with the Debian CJK fonts
(Noto Sans CJK SC, else WenQuanYi Micro Hei), where a headless ECharts render would need node.
Colours follow the web app's charts (govwatch/web/static/app.js).
"""

from __future__ import annotations

import io
from functools import cache

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib import font_manager

from govwatch.reports.model import Chart

# The web app's colours (govwatch/web/static/app.js): red cards and overdue in dark red,
# on-time in green, a second series in blue; yellow cards in amber.
PALETTE = ("#8f1d21", "#1f5fa8", "#2e7d32", "#b26a00", "#6a1b9a", "#5d4037")
SERIES_COLOURS = {"红牌": "#a5161c", "黄牌": "#b26a00", "预警": "#1f5fa8", "按时办结率": "#2e7d32"}


def _colour(name: str, i: int) -> str:
    for prefix, colour in SERIES_COLOURS.items():
        if name.startswith(prefix):
            return colour
    return PALETTE[i % len(PALETTE)]


CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans CJK JP", "WenQuanYi Micro Hei")


@cache
def cjk_font() -> str:
    """The first CJK sans-serif font fontconfig knows (fonts-noto-cjk, fonts-wqy-microhei)."""
    known = {f.name for f in font_manager.fontManager.ttflist}
    for name in CJK_FONTS:
        if name in known:
            return name
    return "sans-serif"


def render_png(chart: Chart, width_in: float = 6.0, height_in: float = 3.0) -> bytes:
    """The chart as a PNG at 200 dpi (sharp when printed at its size on A4)."""
    plt.rcParams["font.family"] = [cjk_font(), "sans-serif"]
    plt.rcParams["axes.unicode_minus"] = False
    fig, ax = plt.subplots(figsize=(width_in, height_in), dpi=200)
    try:
        x = list(range(len(chart.categories)))
        n = max(1, len(chart.series))
        if chart.kind == "line":
            for i, (name, values) in enumerate(chart.series):
                ax.plot(x, list(values), color=_colour(name, i), label=name, linewidth=1.5)
        else:
            width = 0.8 / n
            for i, (name, values) in enumerate(chart.series):
                offsets = [v - 0.4 + width * (i + 0.5) for v in x]
                ax.bar(offsets, list(values), width=width, color=_colour(name, i), label=name)
        step = max(1, len(x) // 12)
        ax.set_xticks(x[::step])
        ax.set_xticklabels(
            list(chart.categories)[::step],
            fontsize=7,
            rotation=30 if chart.kind == "bar" else 0,
            ha="right" if chart.kind == "bar" else "center",
        )
        ax.tick_params(axis="y", labelsize=7)
        ax.set_title(chart.title, fontsize=10)
        ax.spines[["top", "right"]].set_visible(False)
        ax.grid(axis="y", linewidth=0.3)
        if len(chart.series) > 1 or chart.kind == "line":
            ax.legend(fontsize=7, frameon=False)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        return buf.getvalue()
    finally:
        plt.close(fig)
