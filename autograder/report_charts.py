"""How the report looks: its charts as SVG text to put inside the page, and its stylesheet.

matplotlib draws them with its SVG backend, on Figure objects of their own
(never pyplot's global state), and the text of the SVG is returned without
its XML prologue so that it can stand inside an HTML page. The same numbers
give the same bytes: the ids matplotlib makes are salted with a fixed value,
no date goes into the metadata, and text stays text (svg.fonttype "none"),
drawn by the browser in a sans-serif font.

No text a student wrote goes into a chart: the labels are the course's own
misconception codes and numbers; everything else is said by the page around
the chart, where it is escaped.
"""

from __future__ import annotations

import io

#: Fixed so that matplotlib's ids, and so the page, are the same at every run.
HASH_SALT = "conv-channels-report"
STYLE = {
    "svg.hashsalt": HASH_SALT,
    "svg.fonttype": "none",
    "font.family": "sans-serif",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#8a94a6",
    "axes.labelcolor": "#334155",
    "xtick.color": "#475569",
    "ytick.color": "#475569",
}
#: matplotlib's metadata keys that would name a date or a version; None leaves them out.
NO_METADATA = {"Date": None, "Creator": None}
BAR = "#3b6fb6"
BELOW = "#fde2e1"
MEAN = "#c2410c"
MEDIAN = "#0f766e"
#: The histogram's bins: ten steps of 10 % of the points.
BINS = [step * 10 for step in range(11)]


def svg_text(figure):
    """The figure as an <svg> element (the XML declaration and doctype cut off)."""
    from matplotlib.backends.backend_svg import FigureCanvasSVG

    FigureCanvasSVG(figure)
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata=NO_METADATA)
    text = buffer.getvalue()
    return text[text.index("<svg"):].strip()


def new_figure(width, height, left=0.55, bottom=0.45, top=0.1, right=0.2):
    """A matplotlib Figure of width x height inches with one Axes, outside pyplot, with fixed margins
    in inches (a fixed layout: matplotlib's automatic ones draw every figure twice)."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height))
    figure.subplots_adjust(left=left / width, right=1 - right / width, bottom=bottom / height, top=1 - top / height)
    return figure, figure.add_subplot()


def histogram(percentages, threshold, mean, median, what="submissions"):
    """A histogram of scores in % of the points (0-100), with the region below `threshold` (a %)
    shaded and the mean and median marked. `what` is counted on the y axis."""
    from matplotlib import rc_context
    from matplotlib.ticker import MaxNLocator

    with rc_context(STYLE):
        figure, axes = new_figure(4.6, 2.6, top=0.34)
        axes.axvspan(0, threshold, color=BELOW, zorder=0, label=f"below {threshold:g} %")
        axes.hist([min(max(p, 0.0), 100.0) for p in percentages], bins=BINS, color=BAR,
                  edgecolor="white", linewidth=0.8, zorder=2)
        if percentages:
            axes.axvline(mean, color=MEAN, linestyle="--", linewidth=1.4, label=f"mean {mean:.0f} %", zorder=3)
            axes.axvline(median, color=MEDIAN, linestyle=":", linewidth=1.8, label=f"median {median:.0f} %",
                         zorder=3)
        axes.set_xlim(0, 100)
        axes.set_xticks(BINS)
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_xlabel("score, % of the points")
        axes.set_ylabel(what)
        axes.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncols=3, frameon=False, fontsize=8,
                    borderaxespad=0.2, handlelength=1.6, columnspacing=1.2)
        return svg_text(figure)


def bar_chart(counts, what="learners"):
    """Horizontal bars, one per (label, count) of `counts`, the first at the top, each with its
    number at its end. Labels are the course's own codes, never a student's text."""
    from matplotlib import rc_context
    from matplotlib.ticker import MaxNLocator

    labels = [label for label, _ in counts]
    values = [value for _, value in counts]
    with rc_context(STYLE):
        longest = max((len(label) for label in labels), default=1)
        figure, axes = new_figure(4.6, 0.55 + 0.24 * max(len(counts), 1), left=0.2 + 0.068 * longest, bottom=0.4,
                                  top=0.08, right=0.25)
        positions = range(len(counts))
        axes.barh(positions, values, color=BAR, height=0.65)
        axes.set_yticks(positions, labels, fontfamily="monospace")
        axes.invert_yaxis()
        for position, value in zip(positions, values):
            axes.annotate(f"{value}", (value, position), xytext=(3, 0), textcoords="offset points",
                          va="center", fontsize=8, color="#334155")
        axes.set_xlim(0, max(values or [1]) * 1.12)
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_xlabel(what)
        axes.spines["left"].set_visible(False)
        axes.tick_params(axis="y", length=0)
        return svg_text(figure)


#: The report's stylesheet: a light page, cards, and for print no background and a page per assignment.
STYLESHEET = """
:root { --ink: #1e293b; --soft: #64748b; --line: #e2e8f0; --accent: #3b6fb6; }
* { box-sizing: border-box; }
body { margin: 0; background: #f4f6fa; color: var(--ink);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 28px 24px 48px; }
header h1 { margin: 0 0 4px; font-size: 26px; }
header p { margin: 0; color: var(--soft); }
nav { margin: 16px 0 8px; display: flex; flex-wrap: wrap; gap: 6px; }
nav a { padding: 3px 10px; border: 1px solid var(--line); border-radius: 999px; background: #fff;
  color: var(--accent); text-decoration: none; font-size: 13px; }
h2 { margin: 36px 0 8px; font-size: 21px; border-bottom: 2px solid var(--accent); padding-bottom: 4px; }
h3 { margin: 0 0 10px; font-size: 16px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 16px 20px; margin: 14px 0;
  box-shadow: 0 1px 2px rgba(15, 23, 42, .04); }
.pair { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 0 16px; }
@media (max-width: 900px) { .pair { grid-template-columns: 1fr; } }
.figures { display: flex; flex-wrap: wrap; gap: 10px 22px; margin-bottom: 10px; }
.figure .value { font-size: 22px; font-weight: 600; font-variant-numeric: tabular-nums; }
.figure .label { font-size: 12px; color: var(--soft); text-transform: uppercase; letter-spacing: .04em; }
.chips { display: flex; flex-wrap: wrap; gap: 6px; margin: 6px 0 10px; }
.chip { font-size: 12.5px; padding: 2px 9px; border-radius: 999px; border: 1px solid #cbd5e1; background: #f8fafc; }
.chip b { font-variant-numeric: tabular-nums; }
.chip.zero { opacity: .45; }
.s-ok { background: #e7f6ec; border-color: #9fd8b1; }
.s-needs_manual_grade { background: #e8f0fb; border-color: #a9c3ea; }
.s-tampered { background: #f3e8fd; border-color: #c9a6ef; }
.s-timeout { background: #fff4e0; border-color: #f1c27d; }
.s-error { background: #fde8e8; border-color: #f0a3a3; }
.s-invalid { background: #fdeee4; border-color: #eeb48e; }
.s-missing { background: #eef1f5; border-color: #cbd5e1; }
figure.chart { margin: 6px 0 12px; }
figure.chart svg { max-width: 100%; height: auto; display: block; }
figcaption, .note, .quiet { font-size: 13px; color: var(--soft); }
table { border-collapse: collapse; width: 100%; font-size: 13.5px; margin: 6px 0; }
th { text-align: left; font-weight: 600; color: var(--soft); font-size: 12px; text-transform: uppercase;
  letter-spacing: .03em; border-bottom: 2px solid var(--line); padding: 6px 8px; }
td { border-bottom: 1px solid var(--line); padding: 6px 8px; vertical-align: top; }
td ul { margin: 0; padding-left: 18px; }
td code { white-space: nowrap; }
.tag { display: inline-block; font-size: 11px; padding: 0 6px; border-radius: 4px; margin-right: 4px;
  border: 1px solid #cbd5e1; background: #f8fafc; color: #334155; }
.t-status { background: #fde8e8; border-color: #f0a3a3; }
.t-low { background: #fff4e0; border-color: #f1c27d; }
.t-habit { background: #e8f0fb; border-color: #a9c3ea; }
code, pre, .learner { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono", monospace;
  font-size: 12.5px; }
pre { margin: 0; white-space: pre-wrap; background: #f8fafc; border: 1px solid var(--line); border-radius: 6px;
  padding: 6px 8px; font-size: 11.5px; }
.codes td:nth-child(3) { min-width: 200px; }
.codes td:nth-child(5) { font-size: 12.5px; color: #475569; }
.codes td:nth-child(6) { min-width: 320px; }
.num { font-variant-numeric: tabular-nums; white-space: nowrap; }
.rate { white-space: nowrap; }
.bar { display: inline-block; width: 110px; height: 8px; background: #e2e8f0; border-radius: 4px;
  vertical-align: middle; overflow: hidden; }
.bar span { display: block; height: 100%; background: var(--accent); }
a { color: var(--accent); }
dl.run { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; margin: 0; }
dl.run dt { color: var(--soft); } dl.run dd { margin: 0; }
@media print {
  body { background: #fff; font-size: 12px; }
  main { max-width: none; padding: 0; }
  nav { display: none; }
  .card { border: none; box-shadow: none; padding: 6px 0; break-inside: avoid; }
  .pair { grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); }
  section.assignment { break-before: page; }
  tr, figure { break-inside: avoid; }
  a { color: inherit; }
  .bar span, .chip, .tag, pre { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""
