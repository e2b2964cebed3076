"""HTML reports: one self-contained page per submission, rendered from its ``Report``.

Students open the file from a course page, an LMS or an e-mail attachment, often offline: styles
are inline and every picture is a ``data:image/png;base64,...`` URI, so the page loads nothing
from anywhere and needs no JavaScript. The pictures are the checks' figures (``grader.figures``),
drawn by ``grader.drawing``. Pages are written to disk by ``grader.pages``.

Everything that came from a submission (messages, captured output, load errors, notes, even the
numbers of a figure) is untrusted: text is escaped, control characters spelled out, and a figure
that cannot be drawn becomes a sentence, never a failed report.
"""

from __future__ import annotations

import base64
import functools
import html
import json

from grader.drawing import DRAWERS, picture_png
from grader.formatting import STATUS_COLOURS, num, printable
from grader.report import CheckResult, Report

OUTPUT_CHARS = 20_000    # of the captured output shown (the grader keeps 16 KiB by default)
MESSAGE_CHARS = 10_000   # of one check's message


# --------------------------------------------------------------------------- the page

def render(report: Report) -> str:
    """The report as one HTML page, with nothing to fetch."""
    parts = [_header(report), _load_error(report), _notes(report), _summary_table(report.checks),
             *(_check(check) for check in report.checks), _output(report), _footer(report)]
    title = _esc(f"{report.assignment}: {report.submission}")
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n<title>{title}</title>\n'
            f"<style>{STYLE}</style>\n</head>\n<body>\n" + "\n".join(p for p in parts if p) + "\n</body>\n</html>\n")


STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; max-width: 60rem; margin: 2rem auto;
       padding: 0 1rem; color: #222; line-height: 1.45; }
h1 { font-size: 1.5rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.15rem; margin: 0 0 0.4rem 0; }
.score { font-size: 1.3rem; margin: 0.2rem 0; }
.meta, .footer { color: #666; font-size: 0.85rem; }
.problem { border-left: 4px solid #c62828; background: #fdecea; padding: 0.5rem 1rem; margin: 1rem 0; }
.notes { border-left: 4px solid #ef6c00; background: #fff4e5; padding: 0.5rem 1rem; margin: 1rem 0; }
table { border-collapse: collapse; margin: 1rem 0; }
td, th { padding: 0.2rem 0.8rem; border-bottom: 1px solid #ddd; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.check { border: 1px solid #ddd; border-left-width: 6px; border-radius: 4px; padding: 0.7rem 1rem; margin: 1rem 0; }
.status { color: #fff; border-radius: 3px; padding: 0.05rem 0.45rem; font-size: 0.85rem; font-weight: 600; }
.points { font-weight: normal; color: #444; margin-left: 0.5rem; }
.visibility { font-weight: normal; color: #888; font-size: 0.85rem; margin-left: 0.5rem; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; background: #f6f6f6; padding: 0.6rem; border-radius: 3px;
      font-size: 0.85rem; margin: 0.4rem 0; }
figure { margin: 0.8rem 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
.figure-error { color: #8e24aa; font-size: 0.85rem; }
"""


def _esc(text: object) -> str:
    """Text from anywhere, safe inside an element or an attribute: escaped, control characters spelled out."""
    return html.escape(printable(str(text)), quote=True)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"{text[:limit]}\n… ({len(text) - limit} more characters not shown)"


def _status(status: str) -> str:
    return f'<span class="status" style="background:{STATUS_COLOURS.get(status, "#555")}">{_esc(status)}</span>'


def _header(report: Report) -> str:
    when = report.graded_at.strftime("%Y-%m-%d %H:%M UTC")
    return (f"<header>\n<h1>{_esc(report.assignment)}: {_esc(report.submission)}</h1>\n"
            f'<p class="score">Score: <strong>{num(report.score)}</strong> / {num(report.max_score)}</p>\n'
            f'<p class="meta">graded {when} in {report.seconds:.1f} s</p>\n</header>')


def _text_section(title: str, text: str, limit: int, css: str = "") -> str:
    """A titled section holding ``text`` as written (cut to ``limit`` characters), or nothing without text."""
    if not text:
        return ""
    attribute = f' class="{css}"' if css else ""
    return f"<section{attribute}>\n<h2>{title}</h2>\n<pre>{_esc(_cut(text, limit))}</pre>\n</section>"


def _load_error(report: Report) -> str:
    return _text_section("Your file could not be loaded", report.load_error or "", MESSAGE_CHARS, "problem")


def _notes(report: Report) -> str:
    if not report.notes:
        return ""
    items = "\n".join(f"<li>{_esc(note)}</li>" for note in report.notes)
    return f'<section class="notes">\n<h2>Notes</h2>\n<ul>\n{items}\n</ul>\n</section>'


def _summary_table(checks: list[CheckResult]) -> str:
    if not checks:
        return ""
    rows = "\n".join(f'<tr><td><a href="#check-{_esc(c.name)}">{_esc(c.name)}</a></td><td>{_status(c.status)}</td>'
                     f'<td class="num">{num(c.points)} / {num(c.max_points)}</td><td>{_esc(c.visibility)}</td></tr>'
                     for c in checks)
    return ("<table>\n<thead><tr><th>check</th><th>status</th><th>points</th><th>visibility</th></tr></thead>\n"
            f"<tbody>\n{rows}\n</tbody>\n</table>")


def _check(check: CheckResult) -> str:
    colour = STATUS_COLOURS.get(check.status, "#555")
    message = f"<pre>{_esc(_cut(check.message, MESSAGE_CHARS))}</pre>\n" if check.message else ""
    pictures = "".join(_figure(f, kept=check.status == "passed") for f in check.figures)
    return (f'<section class="check" id="check-{_esc(check.name)}" style="border-left-color:{colour}">\n'
            f'<h2>{_esc(check.name)} {_status(check.status)}'
            f'<span class="points">{num(check.points)} / {num(check.max_points)} points</span>'
            f'<span class="visibility">{_esc(check.visibility)}</span></h2>\n{message}{pictures}</section>')


def _output(report: Report) -> str:
    return _text_section("What your code printed", report.output or "", OUTPUT_CHARS)


def _footer(report: Report) -> str:
    confinement = f" Your code ran confined ({_esc(', '.join(report.protections))})." if report.protections else ""
    return f'<p class="footer">Rendered from the report of {_esc(report.submission)}.{confinement}</p>'


def _figure(figure: dict, kept: bool = False) -> str:
    """One picture as an inline PNG; a sentence instead when it cannot be drawn. ``kept``: the picture
    of a passed check, kept on disk (``grader.cache``) for the next process that draws it."""
    return _figure_html(json.dumps(figure, sort_keys=True), kept)


@functools.lru_cache(maxsize=64)
def _figure_html(key: str, kept: bool = False) -> str:
    """Cached by the figure's data: the lecture's demonstrations give every correct submission the
    same paths (to the digits a figure keeps), so a class's pages share most of their pictures."""
    figure = json.loads(key)
    title = str(figure.get("title", ""))
    if DRAWERS.get(str(figure.get("kind"))) is None:
        return f'<p class="figure-error">{_esc(title)}: a figure of kind {_esc(figure.get("kind"))} cannot be drawn.</p>\n'
    try:
        png = picture_png(figure, kept, key)
    except Exception as exc:  # noqa: BLE001 - a picture must never cost the student the rest of the report
        return f'<p class="figure-error">{_esc(title)}: this picture could not be drawn ({_esc(type(exc).__name__)}).</p>\n'
    data = base64.b64encode(png).decode("ascii")
    return f'<figure>\n<img src="data:image/png;base64,{data}" alt="{_esc(title)}">\n</figure>\n'  # titled inside
