"""One self-contained HTML page of a report: the charts and the tables, in a single file.

The page is meant to be mailed, attached or opened from a shared drive, so it carries everything:
the charts are embedded as base64 ``data:`` PNGs, the style is inline, there is no script, and a
Content-Security-Policy forbids any request outside the file. Every text that comes from the data
(titles, places, the results path) is HTML-escaped. Tables show the label ids with their Chinese
names from the taxonomy the job recorded (the browser has CJK fonts even where matplotlib has none); when the
charts had to draw ASCII ids, a key table says which id stands for which place.

Example:
    >>> _pct(0.1234)
    '12.3%'
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path

from policytag.collection.charts import Chart, Naming, make_charts, write_charts
from policytag.collection.report import UNKNOWN, Breakdown, Report, load_report
from policytag.core.jsonl import atomic_write_text
from policytag.core.taxonomy import load_taxonomy
from policytag.core.version import __version__

__all__ = ["PAGE_NAME", "render_page", "write_page", "write_report"]

PAGE_NAME = "report.html"

_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
_STYLE = """
body { font-family: system-ui, "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; margin: 2rem auto;
       max-width: 1200px; padding: 0 1rem; color: #222; }
h1 { margin-bottom: .2rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #ddd; padding-bottom: .2rem; }
.lead { color: #555; margin-top: 0; }
figure { margin: 1.5rem 0; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #555; font-size: .9rem; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: .82rem; margin: .6rem 0; }
th, td { border: 1px solid #ddd; padding: .25rem .45rem; text-align: right; white-space: nowrap; }
th { background: #f4f6f8; vertical-align: bottom; }
td.name, th.name { text-align: left; }
th small { display: block; font-weight: normal; color: #666; }
footer { margin-top: 3rem; color: #777; font-size: .8rem; }
"""


def _pct(share: float) -> str:
    return f"{100 * share:.1f}%"


def _chinese_names(report: Report) -> dict[str, str]:
    """Label id → Chinese name: from the taxonomy the job recorded in its manifest, else the kit's own."""
    recorded = report.manifest.get("taxonomy_definition")
    labels = recorded.get("labels") if isinstance(recorded, Mapping) else None
    if isinstance(labels, list):
        names = {str(x.get("id")): str(x.get("zh")) for x in labels if isinstance(x, Mapping) and x.get("zh")}
        if names:
            return {i: names[i] for i in report.label_ids if i in names}
    try:
        taxonomy = load_taxonomy()
    except (OSError, ValueError):  # TaxonomyError and DataError are ValueErrors
        return {}
    known = set(taxonomy.ids)
    return {i: taxonomy[i].zh for i in report.label_ids if i in known}


def _label_headers(labels: Sequence[str], zh: Mapping[str, str]) -> str:
    return "".join(f'<th scope="col">{escape(i)}<small>{escape(zh.get(i, ""))}</small></th>' for i in labels)


def _shade(share: float, top: float) -> str:
    alpha = 0.0 if top <= 0 else min(1.0, share / top) * 0.55
    return f' style="background: rgba(59,117,175,{alpha:.2f})"' if alpha > 0.02 else ""


def _scroll_table(table_id: str, head: str, rows: Sequence[str]) -> str:
    body = "".join(rows)
    return f'<div class="scroll"><table id="{table_id}"><thead>{head}</thead><tbody>{body}</tbody></table></div>'


def _breakdown_table(by: Breakdown, labels: Sequence[str], zh: Mapping[str, str], *, table_id: str) -> str:
    """Rows: buckets; columns: documents, sentences, each label's share of the bucket's sentences."""
    shares = {label: by.share(label) for label in labels}
    top = {label: max(shares[label], default=0.0) for label in labels}
    head = (
        f'<tr><th class="name" scope="col">{escape(by.dimension)}</th><th scope="col">documents</th>'
        f'<th scope="col">sentences</th>{_label_headers(labels, zh)}</tr>'
    )
    body = []
    for i, bucket in enumerate(by.buckets):
        cells = "".join(f"<td{_shade(shares[lb][i], top[lb])}>{_pct(shares[lb][i])}</td>" for lb in labels)
        body.append(
            f'<tr><th class="name" scope="row">{escape(bucket)}</th><td>{by.documents[i]}</td>'
            f"<td>{by.sentences[i]}</td>{cells}</tr>"
        )
    return (
        f'<div class="scroll"><table id="{table_id}"><thead>{head}</thead><tbody>{"".join(body)}</tbody></table></div>'
    )


def _localities_table(report: Report, zh: Mapping[str, str]) -> str:
    head = (
        '<tr><th class="name" scope="col">label</th><th scope="col">rank</th><th class="name" scope="col">locality</th>'
        '<th class="name" scope="col">province</th><th scope="col">sentences</th>'
        '<th scope="col">with the label</th><th scope="col">share</th></tr>'
    )
    rows = []
    for label in report.label_ids:
        name = f"{escape(label)} <small>{escape(zh.get(label, ''))}</small>"
        for rank, r in enumerate(report.top_localities.get(label, []), start=1):
            rows.append(
                f'<tr><td class="name">{name}</td><td>{rank}</td><td class="name">{escape(r.locality)}</td>'
                f'<td class="name">{escape(r.province or "")}</td><td>{r.sentences}</td><td>{r.count}</td>'
                f"<td>{_pct(r.share)}</td></tr>"
            )
    if not rows:
        note = f"no locality has {report.min_sentences} sentences or more"
        rows.append(f'<tr><td class="name" colspan="7">{note}</td></tr>')
    return _scroll_table("table-localities", head, rows)


def _summary_table(report: Report) -> str:
    model = report.model
    years = [b for b in report.by_year.buckets if b != UNKNOWN]
    facts = [
        ("results folder", str(report.folder)),
        ("model", " ".join(str(model[k]) for k in ("name", "version", "kind") if k in model) or "(no manifest)"),
        ("documents", str(report.documents)),
        ("sentences", str(report.sentences)),
        ("years", f"{years[0]}–{years[-1]}" if years else "none read"),
        ("provinces", str(sum(1 for b in report.by_province.buckets if b != UNKNOWN))),
        ("files that failed (errors.jsonl)", str(report.failures)),
    ]
    rows = "".join(
        f'<tr><th class="name" scope="row">{escape(k)}</th><td class="name">{escape(v)}</td></tr>' for k, v in facts
    )
    return f'<table id="table-summary"><tbody>{rows}</tbody></table>'


def _figure(chart: Chart) -> str:
    data = base64.b64encode(chart.png).decode("ascii")
    return (
        f'<figure><img class="chart" data-chart="{escape(chart.name)}" alt="{escape(chart.title)}" '
        f'src="data:image/png;base64,{data}"><figcaption>{escape(chart.title)} ({escape(chart.name)}.png)'
        "</figcaption></figure>"
    )


def _key_table(naming: Naming) -> str:
    """Which ASCII id the charts drew for which place (only when no CJK font was found)."""
    pairs = naming.substitutes
    if not pairs:
        return ""
    rows = "".join(
        f'<tr><td class="name">{escape(k)}</td><td class="name">{escape(v)}</td></tr>' for k, v in pairs.items()
    )
    return (
        "<h2>Chart key</h2><p>No CJK font was found for the charts, so they name places by these ids.</p>"
        f'<table id="table-key"><thead><tr><th class="name">id</th><th class="name">name</th></tr></thead>'
        f"<tbody>{rows}</tbody></table>"
    )


def render_page(report: Report, charts: Sequence[Chart], naming: Naming) -> str:
    """The whole page as one HTML string (UTF-8, no outside resources)."""
    zh = _chinese_names(report)
    model = str(report.model.get("name", "a model"))
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    share_note = (
        "Shares are shares of sentences: the sentences of a year (province) carrying a label over all its "
        "sentences; a sentence may carry two labels. Documents without a year or province are counted as "
        "<em>unknown</em>."
    )
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{_CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>policytag report: {escape(report.folder.name)}</title>
<style>{_STYLE}</style>
</head>
<body>
<h1>policytag report</h1>
<p class="lead">{report.documents} documents, {report.sentences} sentences, tagged by {escape(model)}</p>
{_summary_table(report)}
<h2>Charts</h2>
{"".join(_figure(c) for c in charts)}
{_key_table(naming)}
<h2>Share per year</h2>
<p>{share_note}</p>
{_breakdown_table(report.by_year, report.label_ids, zh, table_id="table-year")}
<h2>Share per province</h2>
{_breakdown_table(report.by_province, report.label_ids, zh, table_id="table-province")}
<h2>Top localities per label</h2>
<p>Localities with at least {report.min_sentences} sentences, by the share of their sentences that carry the label.</p>
{_localities_table(report, zh)}
<footer>Written by policytag {escape(__version__)} on {when}.</footer>
</body>
</html>
"""


def write_page(path: str | Path, report: Report, charts: Sequence[Chart], naming: Naming) -> Path:
    """Write :func:`render_page` to ``path`` atomically; returns the path."""
    target = Path(path)
    atomic_write_text(target, render_page(report, charts, naming))
    return target


def write_report(
    results: str | Path, out: str | Path, *, top: int = 5, min_sentences: int = 20, cjk: bool = True
) -> list[Path]:
    """The whole report of a results folder in ``out``: the chart PNGs, ``report.html`` and ``report.json``.

    Raises:
        FileNotFoundError: ``results`` or one of its tables is missing (the message names which).
    """
    report = load_report(results, top=top, min_sentences=min_sentences)
    charts, naming = make_charts(report, cjk=cjk)
    folder = Path(out)
    paths = write_charts(charts, folder)
    paths.append(write_page(folder / PAGE_NAME, report, charts, naming))
    summary = json.dumps(report.to_dict(), ensure_ascii=False, indent=2) + "\n"
    atomic_write_text(folder / "report.json", summary)
    paths.append(folder / "report.json")
    for path in paths:  # atomic writes create private files; a report is made to be shared
        path.chmod(0o644)
    return paths
