"""The `divergence` command: a thin shell over the Python API."""

from __future__ import annotations

import logging
import sys
from enum import IntEnum, StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from divergence.config import Settings, load_settings
from divergence.errors import DivergenceError

app = typer.Typer(add_completion=False, no_args_is_help=True, help="How different outlets tell the same event, claim by claim.")


class ExitCode(IntEnum):
    OK = 0
    ERROR = 1
    USAGE = 2
    INPUTS_SET_ASIDE = 3
    ABOVE_THRESHOLD = 4


class Format(StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"
    html = "html"


ModelOption = Annotated[str | None, typer.Option("--model", help="Sentence-transformers id or path (default: built-in multilingual-e5-small; env DIVERGENCE_MODEL).")]
SetOption = Annotated[list[str] | None, typer.Option("--set", help="Override a setting, e.g. --set supported_threshold=0.6.")]
FormatOption = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]
NliOption = Annotated[str | None, typer.Option("--nli", help="Add the opinion of an NLI cross-encoder (sentence-transformers CrossEncoder id or path).")]
OutputOption = Annotated[Path | None, typer.Option("--output", "-o", help="Write the report to this file instead of stdout.")]
class Engine(StrEnum):
    local = "local"
    ray = "ray"


EngineOption = Annotated[Engine, typer.Option("--engine", help="Where embedding and event comparison run: local (this process) or ray.")]
RayAddressOption = Annotated[str | None, typer.Option("--ray-address", help="Ray cluster to join (e.g. ray://head:10001 or auto); "
                                                      "default: start a local Ray instance.")]


def _engine(name: Engine, address: str | None):
    from divergence.engines import engine_for

    return engine_for(name.value, address)


def _settings(model: str | None, overrides: list[str] | None, nli: str | None = None) -> Settings:
    values = {"nli_model": nli} if nli else {}
    for item in overrides or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise typer.BadParameter(f"--set expects key=value, got '{item}'")
        values[key.strip()] = value
    try:
        return load_settings(model=model, **values)
    except Exception as error:  # pydantic validation: one line is enough
        raise DivergenceError(f"invalid setting: {str(error).splitlines()[0]} ({'; '.join(overrides or [])})") from error


def _err_line(message: str) -> None:
    sys.stderr.write(message.rstrip("\n") + "\n")


def _emit(content: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(content)
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        tmp = output.with_name(output.name + ".tmp")
        tmp.write_text(content, encoding="utf-8")
        tmp.replace(output)


PathsArgument = Annotated[list[str], typer.Argument(help="Files or folders (.txt .md .html .json .jsonl), '-' for stdin.")]


def _report_problems(problems) -> None:
    """One line on stderr per input set aside or warned about."""
    for problem in problems:
        kind = "" if problem.set_aside else "warning: "
        _err_line(f"divergence: {kind}{problem.path}: [{problem.code}] {problem.message}")


def _write_report(report, format: Format, output: Path | None, text_view=None) -> None:
    from divergence.report.render import print_text, to_html, to_json, to_markdown

    text_view = text_view or print_text
    _report_problems(report.problems)
    if format is Format.json:
        _emit(to_json(report), output)
    elif format is Format.markdown:
        _emit(to_markdown(report), output)
    elif format is Format.html:
        _emit(to_html(report), output)
    elif output is not None:
        console = Console(record=True, width=160, file=open("/dev/null", "w"))  # noqa: SIM115
        text_view(report, console)
        _emit(console.export_text(), output)
    else:
        text_view(report, Console())
    if any(problem.set_aside for problem in report.problems):
        raise typer.Exit(ExitCode.INPUTS_SET_ASIDE)


@app.command()
def compare(
    paths: PathsArgument,
    format: FormatOption = Format.text,
    output: OutputOption = None,
    model: ModelOption = None,
    set_: SetOption = None,
    nli: NliOption = None,
) -> None:
    """Compare documents about one event: the status of every claim in every other document."""
    from divergence.pipeline import compare as run_compare

    _write_report(run_compare(paths, _settings(model, set_, nli)), format, output)


@app.command()
def cluster(
    paths: PathsArgument,
    format: FormatOption = Format.text,
    output: OutputOption = None,
    model: ModelOption = None,
    set_: SetOption = None,
) -> None:
    """Group articles into events: which documents report the same call, meeting or visit, and why."""
    from divergence.pipeline import cluster as run_cluster
    from divergence.report.render import print_events

    _write_report(run_cluster(paths, _settings(model, set_)), format, output, text_view=print_events)


@app.command()
def analyze(
    paths: PathsArgument,
    format: FormatOption = Format.text,
    output: OutputOption = None,
    model: ModelOption = None,
    set_: SetOption = None,
    nli: NliOption = None,
    engine: EngineOption = Engine.local,
    ray_address: RayAddressOption = None,
) -> None:
    """Group articles into events, then compare each event's sources claim by claim, in one report."""
    from divergence.pipeline import analyze as run_analyze

    settings = _settings(model, set_, nli)
    _write_report(run_analyze(paths, settings, engine=_engine(engine, ray_address)), format, output)


StoreOption = Annotated[str, typer.Option("--store", "-s", help="The corpus store: a SQLite file (created when missing) or a postgresql:// URL.")]


@app.command()
def ingest(
    paths: PathsArgument,
    store: StoreOption,
    format: FormatOption = Format.text,
    model: ModelOption = None,
    set_: SetOption = None,
    engine: EngineOption = Engine.local,
    ray_address: RayAddressOption = None,
) -> None:
    """Add articles to a corpus store, each to its event; files already stored (same text) change nothing."""
    import json

    from divergence.runtime import runtime_for
    from divergence.store.corpus import Corpus

    runtime, inputs, problems = runtime_for(_settings(model, set_)), paths, None
    if (chosen := _engine(engine, ray_address)) is not None:  # embed on the engine; events are still assigned here, in order
        inputs, problems, runtime = chosen.prepare(paths, None, runtime, evidence=False)
    with Corpus(store, runtime=runtime) as corpus:
        result = corpus.ingest(inputs, problems)
        total, where = corpus.store.count(), corpus.store.path  # a database URL without its password
    _report_problems(result.problems)
    if format is Format.json:
        payload = {"added": result.added, "unchanged": result.unchanged, "problems": [p.model_dump() for p in result.problems], "documents": total}
        sys.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    else:
        for doc_id, event in result.added.items():
            sys.stdout.write(f"added      {doc_id} → {event}\n")
        for doc_id, original in result.unchanged.items():
            sys.stdout.write(f"unchanged  {doc_id} (stored as {original})\n")
        sys.stdout.write(f"{len(result.added)} added, {len(result.unchanged)} already stored, "
                         f"{sum(p.set_aside for p in result.problems)} set aside; {total} documents in {where}\n")
    if any(problem.set_aside for problem in result.problems):
        raise typer.Exit(ExitCode.INPUTS_SET_ASIDE)


def _open_existing(store: str) -> None:
    from divergence.store import is_database_url

    if not is_database_url(store) and not Path(store).is_file():
        raise DivergenceError("no such store (create one with `divergence ingest PATH --store FILE`)", str(store))


@app.command()
def events(store: StoreOption, format: FormatOption = Format.text, model: ModelOption = None) -> None:
    """List the events of a corpus store with their documents."""
    import json

    from divergence.store import open_store

    _open_existing(store)
    with open_store(store, _settings(model, None).model) as opened:
        rows = opened.events()
    if format is Format.json:
        sys.stdout.write(json.dumps([{"id": r.id, "label": r.label, "documents": r.documents, "created_at": r.created_at} for r in rows],
                                    indent=2, ensure_ascii=False) + "\n")
        return
    for row in rows:
        sys.stdout.write(f"{row.id}  {len(row.documents)} document{'s' if len(row.documents) != 1 else ''}  {row.label or ''}\n")
        for doc_id in row.documents:
            sys.stdout.write(f"    {doc_id}\n")


@app.command()
def show(
    event: Annotated[str, typer.Argument(help="Event id (see `divergence events`).")],
    store: StoreOption,
    format: FormatOption = Format.text,
    output: OutputOption = None,
    model: ModelOption = None,
    set_: SetOption = None,
) -> None:
    """Compare the stored documents of one event claim by claim."""
    from divergence.store.corpus import Corpus

    _open_existing(store)
    with Corpus(store, _settings(model, set_)) as corpus:
        report = corpus.event_report(event)
    _write_report(report, format, output)


@app.command()
def score(
    path: Annotated[str, typer.Argument(help="The article to score (file, or '-' for stdin).")],
    store: StoreOption,
    format: FormatOption = Format.text,
    no_add: Annotated[bool, typer.Option("--no-add", help="Score only; do not add the article to the store.")] = False,
    fail_above: Annotated[float | None, typer.Option("--fail-above", help="Exit with status 4 when the divergence score is above this.")] = None,
    model: ModelOption = None,
    set_: SetOption = None,
) -> None:
    """Rate a new article against the store: its event, omissions, additions, contradictions, divergence score."""
    from divergence.pipeline import score as run_score
    from divergence.report.render import print_score, to_json

    report = run_score(path, store, _settings(model, set_), add=not no_add)
    _report_problems(report.problems)
    if format is Format.json:
        sys.stdout.write(to_json(report))
    else:
        print_score(report, Console())
    if fail_above is not None and report.divergence is not None and report.divergence > fail_above:
        raise typer.Exit(ExitCode.ABOVE_THRESHOLD)


@app.command()
def serve(
    store: StoreOption,
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.")] = 8000,
    model: ModelOption = None,
    set_: SetOption = None,
) -> None:
    """Serve the HTTP API (OpenAPI at /docs and /openapi.json) over a corpus store."""
    from divergence.interfaces.server import serve as run_server

    run_server(store, host, port, _settings(model, set_))


@app.command()
def models(
    model: ModelOption = None,
    build: Annotated[bool, typer.Option("--build/--no-build", help="Materialise the built-in encoder if it is missing.")] = True,
    verify: Annotated[bool, typer.Option("--verify/--no-verify", help="Embed test sentences and check them.")] = True,
) -> None:
    """Show which encoder is in use, where it lives, and verify that it works."""
    from divergence.encoder.embed import resolve_model

    settings = _settings(model, None)
    path = resolve_model(settings, build=build)
    console = Console()
    console.print(f"model     {settings.model}")
    console.print(f"path      {path}")
    console.print(f"exists    {Path(path).exists()}")
    if verify:
        from divergence.encoder.verify import verify_encoder

        for line in verify_encoder(settings):
            console.print(line)


def run(argv: list[str] | None = None) -> int:
    """Run the command line ``argv`` (default: the process's) and return its exit code; never raises."""
    logging.basicConfig(level=logging.WARNING, format="divergence: %(message)s")
    try:
        code = app(args=argv, standalone_mode=False)
    except DivergenceError as error:
        _err_line(f"divergence: {error.line()}")
        return ExitCode.ERROR
    except typer.Exit as done:
        return done.exit_code
    except (typer.BadParameter, typer.Abort) as error:
        _err_line(f"divergence: {error}")
        return ExitCode.USAGE
    except Exception as error:  # click usage errors and the like
        import click

        if isinstance(error, click.ClickException):
            error.show()
            return ExitCode.USAGE
        raise
    return code if isinstance(code, int) else ExitCode.OK


def main() -> None:
    sys.exit(run())


if __name__ == "__main__":
    main()
