"""Reports as JSON, Markdown and a terminal view."""

from __future__ import annotations

import base64
import hashlib
import html
import re
from pathlib import Path

from divergence.datamodel import Report, ScoreReport, Status
from divergence.errors import MIXED_EVENTS

SYMBOLS = {Status.supported: "✓", Status.partial: "≈", Status.absent: "∅", Status.contradicted: "✗"}
STYLES = {Status.supported: "green", Status.partial: "yellow", Status.absent: "dim", Status.contradicted: "bold red"}


def to_json(report) -> str:
    return report.model_dump_json(indent=2) + "\n"


def to_html(report: Report) -> str:
    """A self-contained page for people (no network: inline CSS and JS, a CSP that forbids any load).

    Overview first (sources, counts, most important divergences), then the coverage matrix and the
    sources side by side; a timeline when there are several events. Every piece of data is escaped.
    """
    from jinja2 import Environment, PackageLoader, select_autoescape
    from markupsafe import Markup

    from divergence.report.overview import CONTRADICTION, OMISSION, SINGLE_SOURCE, overview, passages, source_names, timeline

    environment = Environment(loader=PackageLoader("divergence.report", "templates"), autoescape=select_autoescape(["html", "j2"]),
                              trim_blocks=True, lstrip_blocks=True)
    script = (Path(__file__).parent / "templates" / "report.js").read_text(encoding="utf-8")
    script_hash = "sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode()
    documents = {d.id: d for d in report.documents}
    views = timeline(overview(report), report)  # several events: in time order, as the timeline lists them
    names = source_names(report.documents)
    data, overall, texts = {}, {}, {}
    for view in views:
        event = view.event
        claims = {c.id: {"doc": c.document, "text": c.text, "statuses": {
            other: {"s": j.status.value, "r": j.reason, "ev": j.evidence.claims if j.evidence else []} for other, j in c.statuses.items()}}
            for c in event.claims}
        data[event.id] = {"sources": {s.id: s.name for s in view.sources}, "claims": claims}
        overall.update({c.id: _overall(c) for c in event.claims})
        texts[event.id] = {s.id: passages(documents.get(s.id), [c for c in event.claims if c.document == s.id]) for s in view.sources}
    seen, all_sources = set(), []
    for view in views:
        for source in view.sources:
            if source.id not in seen and len(view.sources) > 1:
                seen.add(source.id)
                all_sources.append(source)
    template = environment.get_template("report.html.j2")
    return template.render(
        report=report, views=views, timeline=views, names=names, data=data, overall=overall, passages=texts,
        all_sources=all_sources, statuses=[s.value for s in Status], mixed=[p for p in report.problems if p.code == MIXED_EVENTS],
        kind_names={CONTRADICTION: "contradiction", SINGLE_SOURCE: "only one source", OMISSION: "omission"},
        cell_symbols={"says": "●", "partly": "◐", "omits": "○", "contradicts": "✗"},
        script=Markup(script), script_hash=script_hash,
    )


def _overall(claim) -> str:
    """A claim's colour in the side-by-side view: contradicted anywhere, absent everywhere, supported everywhere, or partial."""
    found = [j.status for j in claim.statuses.values()]
    if not found:
        return "none"
    if Status.contradicted in found:
        return "contradicted"
    if all(s is Status.absent for s in found):
        return "absent"
    if all(s is Status.supported for s in found):
        return "supported"
    return "partial"


SCHEMA_MODELS = {"report": Report, "score": ScoreReport}


def json_schema(kind: str = "report") -> dict:
    """The JSON schema of a report (``kind="report"``: compare/cluster/analyze/show) or of ``score`` output."""
    model = SCHEMA_MODELS[kind]
    schema = model.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://divergence.invalid/schema/{kind}-{model.model_fields['schema_version'].default}.json"
    return schema


def schema_path(kind: str = "report") -> Path:
    return Path(__file__).parent / "schema" / f"{kind}.schema.json"


def write_schemas() -> None:
    """Regenerate the shipped schemas from the data model (`make schema`; tests check they match)."""
    import json

    for kind in SCHEMA_MODELS:
        schema_path(kind).write_text(json.dumps(json_schema(kind), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _counts(claims, document_id) -> dict[Status, int]:
    counts = {status: 0 for status in Status}
    for claim in claims:
        if claim.document == document_id:
            for judgement in claim.statuses.values():
                counts[judgement.status] += 1
    return counts


def to_markdown(report: Report) -> str:
    """Markdown for people and renderers: every piece of data is escaped (HTML, emphasis, links, table pipes)."""
    lines = ["# Divergence report", ""]
    docs = {d.id: d for d in report.documents}
    lines += [f"> **Warning** {_md(p.path)}: \\[{p.code}\\] {_md(p.message)}" for p in report.problems if p.code == MIXED_EVENTS]
    lines += [""] if any(p.code == MIXED_EVENTS for p in report.problems) else []
    for event in report.events:
        lines += [f"## {_md(event.label or event.id)}", "", f"Event {_code(event.id)}, {_dates(event)}"
                  + (f", {_md(event.kind)}" if event.kind else "") + (f", {_md(', '.join(event.participants))}" if event.participants else "")
                  + ", documents: " + ", ".join(_code(d) for d in event.documents), ""]
        lines += [f"- {_code(a)} ~ {_code(b)} ({link.probability:.2f}): {_md(link.reason)}" for link in event.links for a, b in [link.documents]]
        lines += [f"- {_code(copy)} is a copy of {_code(original)} (not compared as a source)" for copy, original in event.duplicates.items()]
        lines.append("")
        sources = _sources(event)
        for doc_id in sources if event.claims else []:
            doc = docs.get(doc_id)
            meta = f"{_md(doc.language or '?')}, {_md(doc.source or 'unknown source')}" if doc else ""
            lines += [f"### {_code(doc_id)} ({meta})", ""]
            others = [d for d in sources if d != doc_id]
            lines.append("| claim | speaker | " + " | ".join(_code(o) for o in others) + " |")
            lines.append("|---|---|" + "---|" * len(others))
            for claim in (c for c in event.claims if c.document == doc_id):
                cells = []
                for other in others:
                    j = claim.statuses[other]
                    cell = f"{SYMBOLS[j.status]} {j.status.value}" + (f": {_md(j.reason)}" if j.status in (Status.contradicted, Status.partial) else "")
                    if j.attribution:
                        cell += f" ⚑ {_md(j.attribution.description)}"
                    cells.append(cell)
                lines.append(f"| {'**Headline:** ' if claim.headline else ''}{_md(claim.text)} | {_md(claim.speaker) if claim.speaker else '(outlet)'} | " + " | ".join(cells) + " |")
            lines.append("")
    if report.problems:
        lines += ["## Problems", ""] + [f"- {_code(p.path)}: \\[{p.code}\\] {_md(p.message)}" + ("" if p.set_aside else " (still used)")
                                        for p in report.problems] + [""]
    return "\n".join(lines)


_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_\[\]{}|~!])")
_BLOCK_START = re.compile(r"^(\s*\d*)([#>+\-=.)])")


def _md(text: str) -> str:
    """Document text as inert Markdown: HTML escaped as in the HTML report, emphasis, links, code and pipes escaped,
    nothing that starts a block, one line."""
    text = html.escape(" ".join(str(text).split()), quote=False)
    text = _MARKDOWN_PUNCTUATION.sub(r"\\\1", text)
    return _BLOCK_START.sub(lambda m: m.group(1) + "\\" + m.group(2), text)


def _code(text: str) -> str:
    """An id as inline code when that is safe (no backtick, pipe or line break), else as escaped text."""
    text = str(text)
    if any(ch in text for ch in "`|\n\r") or not text.strip():
        return _md(text)
    return f"`{text}`"


def print_text(report: Report, console) -> None:
    from rich.table import Table
    from rich.text import Text

    docs = {d.id: d for d in report.documents}
    for problem in report.problems:
        if problem.code == MIXED_EVENTS:
            console.print(f"[bold yellow]mixed events[/] {_e(problem.path)}: {_e(problem.message)}")
    for event in report.events:
        console.rule(f"[bold]{_e(event.label or event.id)}[/] · {_dates(event)} · {len(event.documents)} document{'s' if len(event.documents) != 1 else ''}")
        if event.kind or event.participants:
            console.print(f"[dim]{_e(event.id)} · {_e(event.kind or 'event')} · {_e(', '.join(event.participants) or 'participants unknown')}[/]")
        for link in event.links:
            console.print(f"  [cyan]{_e(link.documents[0])} ~ {_e(link.documents[1])}[/] {link.probability:.2f}: [dim]{_e(link.reason)}[/]")
        for copy, original in event.duplicates.items():
            console.print(f"  [magenta]{_e(copy)}[/] is a copy of {_e(original)}: not compared as a source")
        sources = _sources(event)
        for doc_id in sources if event.claims else []:
            doc = docs.get(doc_id)
            others = [d for d in sources if d != doc_id]
            counts = _counts(event.claims, doc_id)
            summary = "  ".join(f"{SYMBOLS[s]} {counts[s]} {s.value}" for s in Status)
            date = doc.event_date.text if doc and doc.event_date else "?"
            console.print(f"\n[bold]{_e(doc_id)}[/] [dim]({_e(doc.language if doc else '?')}, {_e(doc.source or 'source unknown') if doc else '?'}, "
                          f"event date {_e(date)})[/]  {summary}")
            table = Table(show_header=True, header_style="bold", expand=True, show_lines=False)
            table.add_column("claim", ratio=3)
            for other in others:
                table.add_column(Text(other), ratio=2)
            for claim in (c for c in event.claims if c.document == doc_id):
                label = Text(claim.text, style="bold" if claim.headline else "")
                if claim.headline:
                    label = Text("headline: ", style="dim") + label
                if claim.speaker:
                    label.append(f"  — {claim.speaker}", style="italic dim")
                cells = []
                for other in others:
                    j = claim.statuses[other]
                    cell = Text(f"{SYMBOLS[j.status]} {j.status.value} {j.score:.2f}", style=STYLES[j.status])
                    if j.status in (Status.contradicted, Status.partial):
                        cell.append("\n" + j.reason, style="dim")
                    if j.attribution:
                        cell.append(f"\n⚑ {j.attribution.description}", style="magenta")
                    cells.append(cell)
                table.add_row(label, *cells)
            console.print(table)
    _print_problems(report, console)


def print_events(report: Report, console) -> None:
    """The view of `divergence cluster`: each event, its documents, and why they belong together."""
    docs = {d.id: d for d in report.documents}
    for event in report.events:
        head = f"[bold]{_e(event.id)}[/]  {_dates(event)}"
        if event.kind or event.participants:
            head += f"  {_e(event.kind or 'event')}: {_e(', '.join(event.participants) or '?')}"
        console.print(head)
        console.print(f"  [italic]{_e(event.label or '')}[/]")
        for doc_id in event.documents:
            doc = docs.get(doc_id)
            note = f" [magenta](copy of {_e(event.duplicates[doc_id])})[/]" if doc_id in event.duplicates else ""
            date = doc.event_date.text if doc and doc.event_date else "no date"
            console.print(f"  • {_e(doc_id)} [dim]({_e(doc.language if doc else '?')}, {_e(date)})[/]{note}")
        for link in event.links:
            console.print(f"    [cyan]{_e(link.documents[0])} ~ {_e(link.documents[1])}[/] {link.probability:.2f}: [dim]{_e(link.reason)}[/]")
        console.print()
    _print_problems(report, console)


def _e(value) -> str:
    """Data shown through rich markup: square brackets in a title, path or claim are text, not tags."""
    from rich.markup import escape

    return escape(str(value))


def _print_problems(report: Report, console) -> None:
    for problem in report.problems:
        console.print(f"[yellow]{'set aside' if problem.set_aside else 'warning'}[/] {_e(problem.path)}: {_e(f'[{problem.code}]')} {_e(problem.message)}")


def _sources(event) -> list[str]:
    return [d for d in event.documents if d not in event.duplicates]


def _dates(event) -> str:
    if event.date and event.date_end:
        return f"{event.date}–{event.date_end}"
    return str(event.date) if event.date else "date unknown"


def print_score(report, console) -> None:
    """The view of `divergence score`."""
    doc = report.document
    where = "a new event" if report.new_event else f"event [bold]{_e(report.event_id)}[/]"
    console.rule(f"[bold]{_e(doc.id)}[/] · {_e(doc.language or '?')} · {where}")
    console.print(f"[dim]{_e(report.assignment_reason)}[/]")
    if report.divergence is None:
        console.print("divergence: [dim]no other source to compare with[/]")
    else:
        console.print(f"divergence: [bold]{report.divergence:.2f}[/]  [dim]({len(report.sources)} source{'s' if len(report.sources) != 1 else ''})[/]")
    for claim in report.claims:
        marks = " ".join(f"{SYMBOLS[j.status]}" for j in claim.statuses.values())
        console.print(f"  {marks or '·'} {_e(claim.text)}")
        for other, j in claim.statuses.items():
            if j.status in (Status.contradicted, Status.partial) or j.attribution:
                extra = f" ⚑ {_e(j.attribution.description)}" if j.attribution else ""
                console.print(f"      [{STYLES[j.status]}]{_e(other)}: {_e(j.reason)}[/]{extra}")
    if report.omitted:
        console.print("\n[bold]left out[/] (what other sources say and this article does not):")
        for claim in report.omitted:
            console.print(f"  ∅ [dim]{_e(claim.document)}:[/] {_e(claim.text)}")
    if report.unique:
        console.print(f"\n[bold]only here[/]: {len(report.unique)} claim{'s' if len(report.unique) != 1 else ''} no source makes")
    console.print(f"\n[dim]{'added to the store' if report.added else 'not added'}[/]")
    _print_problems(report, console)
