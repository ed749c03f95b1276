"""A screen's results for people: the terminal summary, and one self-contained HTML report.

The HTML report is a single file with no network access, no scripts and no external resources:
the charts are inline SVG, the styles are in the page (with a print stylesheet), so it opens in any
browser, can be mailed or archived as it is, and prints on A4 or Letter.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from critlang.screen import ERROR, CriterionCounts, FunnelStep, ScreenResult

_HTML_ROWS = 500  # near misses and errors listed in the HTML report; the rest are in --out

# Colours by effect on eligibility, so that an exclusion met reads as red like an inclusion not met.
_PASS, _FAIL, _UNKNOWN, _REVIEW = "#2e7d32", "#c62828", "#f9a825", "#9e9e9e"


# ---- terminal ------------------------------------------------------------------------------------


def render_text(result: ScreenResult, near_limit: int = 10) -> str:
    """Totals, the funnel, per-criterion counts, the deciding criteria, near misses, what-ifs,
    what the source could not use, and errors, for a terminal."""
    totals = result.totals
    rate = totals["total"] / result.seconds if result.seconds > 0 else 0.0
    lines = [
        f"{result.trial or 'criteria'}: {_patients(totals['total'])} screened in "
        f"{result.seconds:.2f} s ({rate:,.0f}/s)",
        f"  eligible {totals['eligible']} · ineligible {totals['ineligible']} · "
        f"undetermined {totals['undetermined']} · error {totals[ERROR]}",
    ]
    if result.engine != "memory":
        lines.append(f"  engine {result.engine}:")
        lines += [f"    - {note}" for note in result.notes]
    lines += [
        "",
        "Attrition, criteria in file order (remaining: not yet excluded; possibly: of those, "
        "with an unknown so far)",
    ]
    width = max([len(info.id) for info in result.criteria] + [5])
    for step in result.funnel:
        if step.id is None:
            lines.append(f"  {'start':<{width}}  {'':<40} {step.remaining:>8}")
            continue
        excluded = f"-{step.excluded}" if step.excluded else ""
        lines.append(
            f"  {step.id:<{width}}  {_short(step.text, 40):<40} {step.remaining:>8}"
            f"  {excluded:>7}  possibly {step.possibly}"
        )
    lines += [
        "",
        "Per criterion",
        f"  {'':<{width}}  {'':<40} {'met':>7} {'not met':>8} {'unknown':>8} {'review':>7}",
    ]
    for count in result.counts:
        lines.append(
            f"  {count.id:<{width}}  {_short(count.text, 40):<40} {count.met:>7} "
            f"{count.not_met:>8} {count.unknown:>8} {count.review:>7}"
        )
    deciding = result.deciding[:5]
    if deciding:
        lines += ["", "Most often deciding ineligibility"]
        for count in deciding:
            lines.append(
                f"  {count.id:<{width}}  {_patients(count.excluding)} ({count.only} by it alone)"
                f"  {_short(count.text, 60)}"
            )
    if result.near_misses:
        lines += [
            "",
            f"Near misses: {_patients(len(result.near_misses))} fail exactly one criterion",
        ]
        for miss in result.near_misses[:near_limit]:
            detail = miss.gap.text() if miss.gap else _short(miss.explanation, 80)
            lines.append(
                f"  {miss.id}: only {miss.criterion}{f' — {detail}' if detail else ''} "
                f"(otherwise {miss.would_be.value})"
            )
        if len(result.near_misses) > near_limit:
            lines.append(f"  … and {len(result.near_misses) - near_limit} more (--out, --report)")
    if result.what_if:
        lines += ["", "What if"]
        for item in result.what_if:
            lines.append(
                f"  {item.label}: eligible {item.eligible_before} → {item.eligible} "
                f"({item.change:+d}); undetermined {item.undetermined}, ineligible {item.ineligible}"
            )
    if result.unmapped:
        lines += ["", f"Not used from the source ({sum(result.unmapped.values())} items)"]
        for what, times in list(result.unmapped.items())[:10]:
            lines.append(f"  {times:>7}  {what}")
        if len(result.unmapped) > 10:
            lines.append(f"  … and {len(result.unmapped) - 10} more kinds")
    errors = [row for row in result.rows if row.verdict is None]
    lines += ["", f"Errors: {len(errors)}"]
    for row in errors[:5]:
        lines.append(f"  {row.id} ({row.where}): {row.error}")
    if len(errors) > 5:
        lines.append(f"  … and {len(errors) - 5} more (--out)")
    if result.source_error:
        lines.append(f"  {result.source_error}")
    return "\n".join(lines)


def _patients(count: int) -> str:
    return f"{count:,} patient{'s' if count != 1 else ''}"


def _short(text: str | None, width: int) -> str:
    if not text:
        return ""
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


# ---- HTML ----------------------------------------------------------------------------------------

_STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #212121;
       max-width: 1100px; margin: 2em auto; padding: 0 1em; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; }
h2 { font-size: 1.15em; margin-top: 2em; border-bottom: 1px solid #ddd; padding-bottom: 0.2em; }
.subtitle { color: #555; margin-top: 0; }
.tiles { display: flex; gap: 1em; flex-wrap: wrap; margin: 1em 0; }
.tile { border: 1px solid #ddd; border-radius: 6px; padding: 0.6em 1em; min-width: 8em; }
.tile b { display: block; font-size: 1.6em; }
.eligible b { color: #2e7d32; } .ineligible b { color: #c62828; }
.undetermined b { color: #b26a00; } .error b { color: #6a1b9a; }
table { border-collapse: collapse; width: 100%; margin: 0.5em 0; }
th, td { text-align: left; padding: 0.25em 0.5em; border-bottom: 1px solid #eee;
         vertical-align: top; }
th { background: #fafafa; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
.legend span { display: inline-block; margin-right: 1.2em; }
.legend i { display: inline-block; width: 0.9em; height: 0.9em; margin-right: 0.3em;
            vertical-align: -0.1em; }
.note { color: #555; font-size: 0.92em; }
svg text { font: 12px system-ui, sans-serif; fill: #212121; }
code { font-size: 0.95em; }
@media print {
  body { font-size: 10pt; margin: 0; max-width: none; }
  h2 { break-after: avoid; }
  tr, svg, .tiles { break-inside: avoid; }
  .tile { border-color: #999; }
  a { color: inherit; text-decoration: none; }
}
"""


def render_html(result: ScreenResult) -> str:
    """The report as one HTML document (inline SVG charts, no scripts, no external resources)."""
    totals = result.totals
    title = result.trial or "Screening report"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)} — screening report</title>",
        f"<style>{_STYLE}</style>",
        "</head>",
        "<body>",
        f"<h1>{escape(title)} — screening report</h1>",
    ]
    if result.title:
        parts.append(f'<p class="subtitle">{escape(result.title)}</p>')
    parts.append(
        f'<p class="note">{_patients(totals["total"])} screened in {result.seconds:.2f} s.</p>'
    )
    if result.engine != "memory":
        parts.append(f'<p class="note">Screened by the {escape(result.engine)} engine:</p>')
        parts.append('<ul class="note">')
        parts += [f"<li>{escape(note)}</li>" for note in result.notes]
        parts.append("</ul>")
    parts.append('<div class="tiles">')
    for status in ("eligible", "ineligible", "undetermined", ERROR):
        parts.append(f'<div class="tile {status}"><b>{totals[status]:,}</b>{escape(status)}</div>')
    parts.append("</div>")
    parts += _funnel_section(result)
    parts += _criteria_section(result)
    parts += _near_miss_section(result)
    parts += _what_if_section(result)
    parts += _criteria_text_section(result)
    parts += _source_section(result)
    parts += ["</body>", "</html>", ""]
    return "\n".join(parts)


def write_report(result: ScreenResult, path: str | Path) -> None:
    Path(path).write_text(render_html(result), encoding="utf-8")


def _funnel_section(result: ScreenResult) -> list[str]:
    steps = list(result.funnel)
    parts = [
        "<h2>Attrition funnel</h2>",
        '<p class="note">Criteria in file order (review items left out). <b>Remaining</b>: '
        "patients not excluded by this criterion or any before it. Of those, <b>possibly</b> "
        "remain only because a criterion so far is unknown for them. Patients in error are not "
        "counted.</p>",
        '<p class="legend"><span><i style="background:#1565c0"></i>passed every criterion so far'
        '</span><span><i style="background:#90caf9"></i>possibly (an unknown so far)</span></p>',
        _funnel_svg(steps),
        "<table><thead><tr><th>criterion</th><th>text</th><th class=n>excluded here</th>"
        "<th class=n>remaining</th><th class=n>possibly</th></tr></thead><tbody>",
    ]
    for step in steps:
        name = "start" if step.id is None else step.id
        parts.append(
            f"<tr><td>{escape(name)}</td><td>{escape(_short(step.text, 90))}</td>"
            f"<td class=n>{step.excluded or ''}</td><td class=n>{step.remaining:,}</td>"
            f"<td class=n>{step.possibly:,}</td></tr>"
        )
    parts.append("</tbody></table>")
    return parts


def _funnel_svg(steps: list[FunnelStep]) -> str:
    label, bar_width, row, number = 70, 560, 20, 120
    height = row * len(steps) + 10
    width = label + bar_width + number
    largest = max((step.remaining for step in steps), default=0) or 1
    shapes = [
        f'<svg role="img" aria-label="attrition funnel" viewBox="0 0 {width} {height}" '
        f'width="100%" style="max-width:{width}px">'
    ]
    for index, step in enumerate(steps):
        y = 5 + index * row
        passed = bar_width * step.passed / largest
        possibly = bar_width * step.possibly / largest
        name = "start" if step.id is None else step.id
        shapes.append(f'<text x="0" y="{y + 14}">{escape(name)}</text>')
        shapes.append(
            f'<rect x="{label}" y="{y + 2}" width="{passed:.1f}" height="{row - 5}" fill="#1565c0">'
            f"<title>{escape(name)}: {step.passed} passed so far</title></rect>"
        )
        shapes.append(
            f'<rect x="{label + passed:.1f}" y="{y + 2}" width="{possibly:.1f}" '
            f'height="{row - 5}" fill="#90caf9"><title>{escape(name)}: {step.possibly} possibly'
            "</title></rect>"
        )
        shapes.append(
            f'<text x="{label + passed + possibly + 6:.1f}" y="{y + 14}">{step.remaining:,}'
            f"{f' (-{step.excluded:,})' if step.excluded else ''}</text>"
        )
    shapes.append("</svg>")
    return "".join(shapes)


def _criteria_section(result: ScreenResult) -> list[str]:
    counts = list(result.counts)
    parts = [
        "<h2>Per criterion</h2>",
        '<p class="legend">'
        f'<span><i style="background:{_PASS}"></i>in the patient\'s favour (inclusion met, '
        "exclusion not met)</span>"
        f'<span><i style="background:{_FAIL}"></i>against (inclusion not met, exclusion met)</span>'
        f'<span><i style="background:{_UNKNOWN}"></i>unknown</span>'
        f'<span><i style="background:{_REVIEW}"></i>to review</span></p>',
        _criteria_svg(counts),
        "<table><thead><tr><th>criterion</th><th>section</th><th class=n>met</th>"
        "<th class=n>not met</th><th class=n>unknown</th><th class=n>review</th>"
        "<th class=n>makes ineligible</th><th class=n>alone</th></tr></thead><tbody>",
    ]
    for count in counts:
        parts.append(
            f"<tr><td>{escape(count.id)}</td><td>{count.section}</td>"
            f"<td class=n>{count.met:,}</td><td class=n>{count.not_met:,}</td>"
            f"<td class=n>{count.unknown:,}</td><td class=n>{count.review:,}</td>"
            f"<td class=n>{count.excluding:,}</td><td class=n>{count.only:,}</td></tr>"
        )
    parts.append("</tbody></table>")
    deciding = result.deciding[:10]
    if deciding:
        parts.append("<h2>Criteria that most often decide ineligibility</h2>")
        parts.append(
            "<table><thead><tr><th>criterion</th><th>text</th><th class=n>patients</th>"
            "<th class=n>by it alone</th></tr></thead><tbody>"
        )
        for count in deciding:
            parts.append(
                f"<tr><td>{escape(count.id)}</td><td>{escape(_short(count.text, 120))}</td>"
                f"<td class=n>{count.excluding:,}</td><td class=n>{count.only:,}</td></tr>"
            )
        parts.append("</tbody></table>")
    return parts


def _criteria_svg(counts: list[CriterionCounts]) -> str:
    label, bar_width, row = 70, 640, 18
    height = row * len(counts) + 10
    width = label + bar_width + 10
    shapes = [
        f'<svg role="img" aria-label="outcomes per criterion" viewBox="0 0 {width} {height}" '
        f'width="100%" style="max-width:{width}px">'
    ]
    for index, count in enumerate(counts):
        y = 5 + index * row
        total = count.met + count.not_met + count.unknown + count.review
        favour, against = (
            (count.met, count.not_met)
            if count.section == "inclusion"
            else (count.not_met, count.met)
        )
        shapes.append(f'<text x="0" y="{y + 13}">{escape(count.id)}</text>')
        x = float(label)
        for amount, colour, words in (
            (favour, _PASS, "in favour"),
            (against, _FAIL, "against"),
            (count.unknown, _UNKNOWN, "unknown"),
            (count.review, _REVIEW, "to review"),
        ):
            if not amount or not total:
                continue
            size = bar_width * amount / total
            shapes.append(
                f'<rect x="{x:.1f}" y="{y + 2}" width="{size:.1f}" height="{row - 4}" '
                f'fill="{colour}"><title>{escape(count.id)}: {amount:,} {words}</title></rect>'
            )
            x += size
    shapes.append("</svg>")
    return "".join(shapes)


def _near_miss_section(result: ScreenResult) -> list[str]:
    misses = result.near_misses
    parts = ["<h2>Near misses</h2>"]
    if not misses:
        return [*parts, "<p>No patient fails exactly one criterion.</p>"]
    parts.append(
        f"<p>{_patients(len(misses))} fail exactly one criterion; “would be” is the verdict if "
        "that criterion were met in their favour (undetermined when another is unknown). "
        "Closest to the threshold first.</p>"
    )
    parts.append(
        "<table><thead><tr><th>patient</th><th>criterion</th><th>how far</th>"
        "<th>would be</th></tr></thead><tbody>"
    )
    for miss in misses[:_HTML_ROWS]:
        detail = miss.gap.text() if miss.gap else miss.explanation or "(not given by the engine)"
        parts.append(
            f"<tr><td>{escape(miss.id)}</td><td>{escape(miss.criterion)}</td>"
            f"<td>{escape(detail)}</td><td>{miss.would_be.value}</td></tr>"
        )
    parts.append("</tbody></table>")
    if len(misses) > _HTML_ROWS:
        parts.append(f'<p class="note">… and {len(misses) - _HTML_ROWS:,} more (see --out).</p>')
    return parts


def _what_if_section(result: ScreenResult) -> list[str]:
    if not result.what_if:
        return []
    parts = [
        "<h2>What if</h2>",
        "<table><thead><tr><th>change</th><th class=n>eligible before</th>"
        "<th class=n>eligible after</th><th class=n>difference</th>"
        "<th class=n>undetermined</th><th class=n>ineligible</th></tr></thead><tbody>",
    ]
    for item in result.what_if:
        parts.append(
            f"<tr><td>{escape(item.label)}</td><td class=n>{item.eligible_before:,}</td>"
            f"<td class=n>{item.eligible:,}</td><td class=n>{item.change:+,}</td>"
            f"<td class=n>{item.undetermined:,}</td><td class=n>{item.ineligible:,}</td></tr>"
        )
    parts.append("</tbody></table>")
    return parts


def _criteria_text_section(result: ScreenResult) -> list[str]:
    parts = [
        "<h2>The criteria</h2>",
        "<table><thead><tr><th>criterion</th><th>section</th><th>protocol text</th></tr>"
        "</thead><tbody>",
    ]
    for info in result.criteria:
        kind = f"{info.section}{' (review)' if info.review else ''}"
        parts.append(
            f"<tr><td>{escape(info.id)}</td><td>{kind}</td><td>{escape(info.text or '')}</td></tr>"
        )
    parts.append("</tbody></table>")
    return parts


def _source_section(result: ScreenResult) -> list[str]:
    parts: list[str] = []
    if result.unmapped:
        parts += [
            "<h2>Not used from the source</h2>",
            "<table><thead><tr><th>what</th><th class=n>times</th></tr></thead><tbody>",
        ]
        for what, times in result.unmapped.items():
            parts.append(f"<tr><td>{escape(what)}</td><td class=n>{times:,}</td></tr>")
        parts.append("</tbody></table>")
    errors = [row for row in result.rows if row.verdict is None]
    parts.append(f"<h2>Errors ({len(errors):,})</h2>")
    if result.source_error:
        parts.append(f"<p>{escape(result.source_error)}</p>")
    if not errors:
        return [*parts, "<p>Every patient was read and evaluated.</p>"]
    parts.append(
        "<table><thead><tr><th>patient</th><th>where</th><th>reason</th></tr></thead><tbody>"
    )
    for row in errors[:_HTML_ROWS]:
        parts.append(
            f"<tr><td>{escape(row.id)}</td><td>{escape(row.where)}</td>"
            f"<td>{escape(row.error or '')}</td></tr>"
        )
    parts.append("</tbody></table>")
    if len(errors) > _HTML_ROWS:
        parts.append(f'<p class="note">… and {len(errors) - _HTML_ROWS:,} more (see --out).</p>')
    return parts


__all__ = ["render_html", "render_text", "write_report"]
