"""The `divergence` command: a thin shell over the Python API."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import math
import os
import re
import sys
import tempfile
import time
from enum import IntEnum, StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from divergence.config import Settings, load_settings
from divergence.errors import CacheError, ConfigError, DivergenceError, OutputError, StoreError

app = typer.Typer(add_completion=False, no_args_is_help=False,
                  help="How different outlets tell the same event, claim by claim.\n\n"
                  "Exit status: 0 done, 1 error, 2 usage error, 3 some inputs set aside, 4 divergence above --fail-above.")


class ExitCode(IntEnum):
    OK = 0
    ERROR = 1
    USAGE = 2
    INPUTS_SET_ASIDE = 3
    ABOVE_THRESHOLD = 4
    INTERRUPTED = 130


class _Options:
    """What the global options asked for, for this one run."""

    def reset(self) -> None:
        self.quiet = False
        self.verbose = False
        logging.getLogger("divergence").setLevel(logging.NOTSET)


OPTIONS = _Options()
OPTIONS.reset()


class Format(StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"
    html = "html"
    csv = "csv"  # one row per claim × other source
    claimreview = "claimreview"  # schema.org ClaimReview JSON-LD for contradicted claims


class ListFormat(StrEnum):
    """Formats of the commands whose output is a listing, not a report (ingest, events, score)."""

    text = "text"
    json = "json"


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            installed = version("divergence")
        except PackageNotFoundError:  # run from a source tree that was never installed
            installed = "(not installed)"
        sys.stdout.write(f"divergence {installed}\n")
        raise typer.Exit(ExitCode.OK)


@app.callback()
def _global_options(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress or warnings on stderr (errors still are).")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Progress with timings on stderr.")] = False,
) -> None:
    """Options for every command."""
    OPTIONS.quiet, OPTIONS.verbose = quiet, verbose and not quiet
    if OPTIONS.verbose or OPTIONS.quiet:
        logging.getLogger("divergence").setLevel(logging.INFO if OPTIONS.verbose else logging.ERROR)


ModelOption = Annotated[str | None, typer.Option("--model", help="Sentence-transformers id or path (default: built-in multilingual-e5-small; env DIVERGENCE_MODEL).")]
SetOption = Annotated[list[str] | None, typer.Option("--set", help="Override a setting, e.g. --set supported_threshold=0.6.")]
FormatOption = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]
ListFormatOption = Annotated[ListFormat, typer.Option("--format", "-f", help="Output format.")]
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
    settings = load_settings(model=model, **values)
    if settings.embedding_cache:
        _check_writable_dir(settings.cache_dir, "cache_dir")
    return settings


def _check_writable_dir(folder: Path, setting: str) -> None:
    """The embedding cache lives here: say so in one line now rather than fail in the middle of a run."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise CacheError(f"cannot write there ({error.strerror or error}); set {setting} (DIVERGENCE_{setting.upper()}) "
                         "to a writable folder, or embedding_cache=false", str(folder)) from None


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def _err_line(message: str) -> None:
    """One line on stderr: control characters (a newline or an escape sequence in a file name) are written escaped."""
    line = _CONTROL.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"), message.rstrip("\n"))
    sys.stderr.write(line + "\n")


def _check_output(output: Path | None) -> None:
    """Refuse an --output that cannot be written before any work is done."""
    if output is None:
        return
    if output.is_dir():
        raise OutputError("is a directory", str(output))
    parent = next((p for p in output.parents if p.exists()), None)
    if parent is not None and not parent.is_dir():
        raise OutputError(f"{parent} is not a directory", str(output))


def _check_output_spares_inputs(output: Path | None, paths: list[str]) -> None:
    """Refuse an --output that is one of the inputs: a file given, or a file that reading a folder given reads (an
    article of this run and the next), which the report would overwrite."""
    from divergence.ingest.load import read_in_folder

    if output is None:
        return
    target = output.resolve()
    for raw in paths:
        if raw == "-":
            continue
        given = Path(raw).resolve()
        if target == given or (given.is_dir() and given in target.parents and read_in_folder(target)):
            raise OutputError(f"is an input ({raw}); the report would overwrite it, choose another output", str(output))


def _stored_as(stored_id: str | None) -> str:
    return f" (stored as {stored_id})" if stored_id else ""


def _check_output_spares(output: Path | None, store: str) -> None:
    """Refuse an --output that would overwrite the store or one of its companion files (written over by the report)."""
    from divergence.store import is_database_url

    if output is None or is_database_url(store):
        return
    stored = Path(store).resolve()
    if output.resolve() in {stored, *(stored.with_name(stored.name + tail) for tail in ("-wal", "-shm", "-journal", ".usearch"))}:
        raise OutputError("is a file of the store (--store); choose another output", str(output))


def _emit(content: str, output: Path | None) -> None:
    """Write to stdout, or to ``output`` atomically (a temporary file renamed over it, removed on failure)."""
    if output is None:
        sys.stdout.write(content)
        return
    _check_output(output)
    tmp = output.with_name(f".{output.name}.{os.getpid()}.tmp")
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(content, encoding="utf-8")
        tmp.replace(output)
    except OSError as error:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise OutputError(f"cannot write: {error.strerror or error}", str(output)) from error


PathsArgument = Annotated[list[str], typer.Argument(help="Files or folders (.txt .md .html .json .jsonl), '-' for stdin.")]


def _report_problems(problems) -> None:
    """One line on stderr per input set aside or warned about (warnings only when not --quiet)."""
    for problem in problems:
        if OPTIONS.quiet and not problem.set_aside:
            continue
        kind = "" if problem.set_aside else "warning: "
        _err_line(f"divergence: {kind}{problem.path}: [{problem.code}] {problem.message}")


def _text(view, report, output: Path | None) -> None:
    """A text view to the terminal (problems already went to stderr), or recorded into ``output``."""
    if output is None:
        view(report.model_copy(update={"problems": []}), Console())
        return
    console = Console(record=True, width=160, file=io.StringIO())
    view(report, console)
    _emit(console.export_text(), output)


def _write_report(report, format: Format, output: Path | None, text_view=None) -> None:
    from divergence.report.render import print_text, to_html, to_json, to_markdown

    _report_problems(report.problems)
    if format is Format.json:
        _emit(to_json(report), output)
    elif format in (Format.csv, Format.claimreview):
        from divergence.report.exports import to_claimreview, to_csv

        _emit(to_csv(report) if format is Format.csv else to_claimreview(report), output)
    elif format is Format.markdown:
        _emit(to_markdown(report), output)
    elif format is Format.html:
        _emit(to_html(report), output)
    else:
        _text(text_view or print_text, report, output)
    if any(problem.set_aside for problem in report.problems):
        raise typer.Exit(ExitCode.INPUTS_SET_ASIDE)


class _StageHandler(logging.Handler):
    """Stage messages of the pipeline (logger ``divergence.progress``) into the spinner, and with timings under --verbose."""

    def __init__(self, status, started: float):
        super().__init__(logging.INFO)
        self.status, self.started = status, started

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if self.status is not None:
            self.status.update(f"{message}…")
        if OPTIONS.verbose:
            _err_line(f"divergence: {time.perf_counter() - self.started:6.1f} s  {message}")


@contextlib.contextmanager
def _progress(what: str):
    """A spinner on stderr while ``what`` runs, when stderr is a terminal (not with --quiet); stage timings with --verbose."""
    started = time.perf_counter()
    console = Console(stderr=True)
    live = not OPTIONS.quiet and console.is_terminal
    status = console.status(f"{what}…") if live else None
    stages = logging.getLogger("divergence.progress")
    handler = _StageHandler(status, started)
    if live or OPTIONS.verbose:
        stages.addHandler(handler)
        stages.setLevel(logging.INFO)
        stages.propagate = False  # shown by the handler only, whichever module logged the stage
    try:
        if status is not None:
            with status:
                yield
        else:
            yield
    finally:
        stages.removeHandler(handler)
        if OPTIONS.verbose:
            _err_line(f"divergence: {time.perf_counter() - started:6.1f} s  done ({what})")


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

    _check_output(output)
    _check_output_spares_inputs(output, paths)
    settings = _settings(model, set_, nli)
    with _progress("reading and preparing the documents"):
        report = run_compare(paths, settings)
    _write_report(report, format, output)


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

    _check_output(output)
    _check_output_spares_inputs(output, paths)
    settings = _settings(model, set_)
    with _progress("reading and preparing the documents"):
        report = run_cluster(paths, settings)
    _write_report(report, format, output, text_view=print_events)


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

    _check_output(output)
    _check_output_spares_inputs(output, paths)
    settings = _settings(model, set_, nli)
    with _progress("reading and preparing the documents"):
        report = run_analyze(paths, settings, engine=_engine(engine, ray_address))
    _write_report(report, format, output)


StoreOption = Annotated[str, typer.Option("--store", "-s", help="The corpus store: a SQLite file (created when missing) or a postgresql:// URL.")]


@app.command()
def ingest(
    paths: PathsArgument,
    store: StoreOption,
    format: ListFormatOption = ListFormat.text,
    output: OutputOption = None,
    model: ModelOption = None,
    set_: SetOption = None,
    engine: EngineOption = Engine.local,
    ray_address: RayAddressOption = None,
) -> None:
    """Add articles to a corpus store, each to its event; files already stored (same text) change nothing."""
    from divergence.runtime import runtime_for
    from divergence.store.corpus import Corpus

    _check_output(output)
    _check_output_spares(output, store)
    _check_output_spares_inputs(output, paths)
    runtime, inputs, problems = runtime_for(_settings(model, set_)), paths, None
    with _progress("loading the encoder and the store, ingesting"):
        if (chosen := _engine(engine, ray_address)) is not None:  # embed on the engine; events are still assigned here, in order
            inputs, problems, runtime = chosen.prepare(paths, None, runtime, evidence=False)
        with Corpus(store, runtime=runtime) as corpus:
            result = corpus.ingest(inputs, problems)
            total, where = corpus.store.count(), corpus.store.path  # a database URL without its password
    _report_problems(result.problems)
    if format is ListFormat.json:
        payload = {"added": result.added, "unchanged": result.unchanged, "problems": [p.model_dump() for p in result.problems], "documents": total}
        payload["renamed"] = result.renamed
        _emit(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", output)
    else:
        lines = [f"added      {doc_id} → {event}{_stored_as(result.renamed.get(doc_id))}\n" for doc_id, event in result.added.items()]
        lines += [f"unchanged  {doc_id} (stored as {original})\n" for doc_id, original in result.unchanged.items()]
        lines.append(f"{len(result.added)} added, {len(result.unchanged)} already stored, "
                     f"{sum(p.set_aside for p in result.problems)} set aside; {total} documents in {where}\n")
        _emit("".join(lines), output)
    if any(problem.set_aside for problem in result.problems):
        raise typer.Exit(ExitCode.INPUTS_SET_ASIDE)


def _open_existing(store: str) -> None:
    from divergence.store import is_database_url

    if not is_database_url(store) and not Path(store).is_file():
        raise StoreError("no such store (create one with `divergence ingest PATH --store FILE`)", str(store))


@app.command()
def events(store: StoreOption, format: ListFormatOption = ListFormat.text, output: OutputOption = None, model: ModelOption = None) -> None:
    """List the events of a corpus store with their documents."""
    from divergence.store import open_store

    _check_output(output)
    _check_output_spares(output, store)
    _open_existing(store)
    with open_store(store, _settings(model, None).model, read_only=True) as opened:
        rows = opened.events()
    if format is ListFormat.json:
        _emit(json.dumps([{"id": r.id, "label": r.label, "documents": r.documents, "created_at": r.created_at} for r in rows],
                         indent=2, ensure_ascii=False) + "\n", output)
        return
    lines = []
    for row in rows:
        lines.append(f"{row.id}  {len(row.documents)} document{'s' if len(row.documents) != 1 else ''}  {row.label or ''}\n")
        lines += [f"    {doc_id}\n" for doc_id in row.documents]
    _emit("".join(lines), output)


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

    _check_output(output)
    _check_output_spares(output, store)
    _open_existing(store)
    settings = _settings(model, set_)
    with _progress("loading the encoder and judging"), Corpus(store, settings, read_only=True) as corpus:
        report = corpus.event_report(event)
    _write_report(report, format, output)


def _divergence_threshold(value: float | None) -> float | None:
    if value is not None and not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise typer.BadParameter(f"must be a number from 0 to 1, got {value}", param_hint="--fail-above")
    return value


@app.command()
def score(
    path: Annotated[str, typer.Argument(help="The article to score (file, or '-' for stdin).")],
    store: StoreOption,
    format: ListFormatOption = ListFormat.text,
    output: OutputOption = None,
    no_add: Annotated[bool, typer.Option("--no-add", help="Score only; do not add the article to the store.")] = False,
    fail_above: Annotated[float | None, typer.Option("--fail-above", callback=_divergence_threshold,
                                                     help="Exit with status 4 when the divergence score (0-1) is above this.")] = None,
    model: ModelOption = None,
    set_: SetOption = None,
) -> None:
    """Rate a new article against the store: its event, omissions, additions, contradictions, divergence score."""
    from divergence.pipeline import score as run_score
    from divergence.report.render import print_score, to_json

    _check_output(output)
    _check_output_spares(output, store)
    _check_output_spares_inputs(output, [path])
    if no_add:
        _open_existing(store)
    settings = _settings(model, set_)
    with _progress("loading the encoder and scoring"):
        report = run_score(path, store, settings, add=not no_add)
    _report_problems(report.problems)
    if format is ListFormat.json:
        _emit(to_json(report), output)
    else:
        _text(print_score, report, output)
    if fail_above is not None and report.divergence is not None and report.divergence > fail_above:
        raise typer.Exit(ExitCode.ABOVE_THRESHOLD)


@app.command()
def check(
    store: StoreOption,
) -> None:
    """Check a corpus store file for damage (SQLite integrity check); exit 1 when it is damaged."""
    from divergence.store import is_database_url
    from divergence.store.sqlite import check_store

    if is_database_url(store):
        raise StoreError("check runs SQLite's integrity check; a PostgreSQL server checks its own pages", store)
    _open_existing(store)
    sys.stdout.write(f"{store}: {check_store(store)}\n")


@app.command()
def serve(
    store: StoreOption,
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="TCP port.")] = 8000,
    model: ModelOption = None,
    set_: SetOption = None,
) -> None:
    """Serve the HTTP API (OpenAPI at /docs and /openapi.json) over a corpus store."""
    from divergence.interfaces.server import serve as run_server

    run_server(store, host, port, _settings(model, set_), access_log=not OPTIONS.quiet)


@app.command()
def models(
    model: ModelOption = None,
    build: Annotated[bool, typer.Option("--build/--no-build", help="Materialise the built-in encoder and its int8 build if missing.")] = True,
    verify: Annotated[bool, typer.Option("--verify/--no-verify", help="Embed test sentences and check them.")] = True,
    int8: Annotated[bool, typer.Option("--int8", help="Also build the int8 ONNX Runtime encoder (encoder_backend=onnx-int8 or auto).")] = False,
) -> None:
    """Show which encoder is in use, where it lives, and verify that it works."""
    from divergence.encoder.embed import DEFAULT_MODEL, build_fast_encoder, choose_backend, fast_artefact_path, resolve_model
    from divergence.errors import ModelError

    settings = _settings(model, None)
    backend = choose_backend(settings)  # an impossible backend is refused before anything is built or printed
    if int8 and fast_artefact_path(settings) is None:
        raise ModelError(f"--int8 builds the int8 encoder of the built-in encoder ({DEFAULT_MODEL}) only; "
                         "another model has none", settings.model)
    path = resolve_model(settings, build=build)
    console = Console()
    if build and (int8 or settings.encoder_backend != "torch"):
        built = build_fast_encoder(settings)
        if built is not None:
            console.print(f"int8      {built.path} ({built.bytes / 1e6:.0f} MB, min cosine to float32 {built.min_cosine:.4f})", markup=False)
    console.print(f"model     {settings.model}", markup=False)
    console.print(f"path      {path}", markup=False)
    console.print(f"exists    {Path(path).exists()}", markup=False)
    console.print(f"backend   {backend}", markup=False)
    if verify:
        from divergence.encoder.verify import verify_encoder

        for line in verify_encoder(settings):
            console.print(line, markup=False)


# --- recluster (issue 13): batch clustering over a stored time window ------------------------------------


def _window_day(value: str | None, option: str) -> int | None:
    import datetime as dt

    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value).toordinal()
    except ValueError:
        raise typer.BadParameter(f"{option} {value!r} is not a date (YYYY-MM-DD)") from None


@app.command()
def recluster(
    store: StoreOption,
    since: Annotated[str | None, typer.Option("--since", help="First event date of the window (YYYY-MM-DD); default: the oldest.")] = None,
    until: Annotated[str | None, typer.Option("--until", help="Last event date of the window (YYYY-MM-DD); default: the newest.")] = None,
    format: ListFormatOption = ListFormat.text,
    output: OutputOption = None,
    model: ModelOption = None,
    set_: SetOption = None,
) -> None:
    """Cluster the stored documents of a time window again, as `analyze` would, and apply merges and splits in one transaction.

    Every event with a document in the window takes part whole; events whose documents do not change keep their id.
    Without --since/--until every stored document (undated ones included) is reclustered.
    """
    from divergence.store.corpus import Corpus

    first, last = _window_day(since, "--since"), _window_day(until, "--until")
    if first is not None and last is not None and first > last:
        raise typer.BadParameter(f"--since {since} is after --until {until}")
    _check_output(output)
    _check_output_spares(output, store)
    _open_existing(store)
    with _progress("loading the encoder and the store, reclustering"), Corpus(store, _settings(model, set_)) as corpus:
        result = corpus.recluster(first, last)
    if format is ListFormat.json:
        payload = {"documents": result.documents, "kept": result.kept, "changed": result.changed, "removed": result.removed}
        _emit(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", output)
        return
    lines = [f"regrouped  {' + '.join(sources)} → {event}\n" for event, sources in result.changed.items()]
    lines.append(f"{result.documents} documents reclustered: {len(result.kept)} events unchanged, "
                 f"{len(result.changed)} new or regrouped, {len(result.removed)} removed\n")
    _emit("".join(lines), output)


def run(argv: list[str] | None = None) -> int:
    """Run the command line ``argv`` (default: the process's) and return its exit code; never raises.

    Usage mistakes are one line and exit 2, user-fixable problems one line and exit 1; anything
    unexpected is one line too, naming the file that holds the whole story.
    """
    logging.basicConfig(level=logging.WARNING, format="divergence: %(message)s")
    argv = sys.argv[1:] if argv is None else list(argv)
    OPTIONS.reset()
    try:
        code = typer.main.get_command(app).main(args=argv, prog_name="divergence", standalone_mode=False)
    except ConfigError as error:  # an impossible setting is a usage error
        _err_line(f"divergence: {error.line()}")
        return ExitCode.USAGE
    except DivergenceError as error:
        for problem in getattr(error, "problems", None) or []:
            _report_problems([problem])
        _err_line(f"divergence: {error.line()}")
        return ExitCode.ERROR
    except typer.Exit as done:
        return done.exit_code
    except _usage_errors() as error:
        _err_line(f"divergence: {_usage_message(error)}")
        return ExitCode.USAGE
    except typer.Abort:
        _err_line("divergence: aborted")
        return ExitCode.INTERRUPTED
    except KeyboardInterrupt:
        _err_line("divergence: interrupted")
        return ExitCode.INTERRUPTED
    except BrokenPipeError:
        return ExitCode.ERROR
    except Exception as error:  # noqa: BLE001 - the last line of defence: no traceback reaches a user
        _err_line(f"divergence: {_unexpected(error, _crash_report(error, argv))}")
        return ExitCode.ERROR
    return code if isinstance(code, int) else ExitCode.OK


def _usage_errors() -> tuple[type[Exception], ...]:
    """Command-line mistakes: recent typer ships its own click, whose exceptions derive from typer.TyperException;
    older typer raised click's own."""
    found: list[type[Exception]] = [typer.TyperException] if hasattr(typer, "TyperException") else []
    with contextlib.suppress(ImportError):
        import click

        found.append(click.ClickException)
    return tuple(found)


def _usage_message(error) -> str:
    message = error.format_message()
    if "No such option" in message:
        message += " (a path that starts with '-' goes after --, e.g. `divergence compare -- -a.txt b.txt`)"
    command = getattr(getattr(error, "ctx", None), "command_path", None)
    return f"{message} (see `{command or 'divergence'} --help`)"


def _crash_report(error: BaseException, argv: list[str]) -> Path | None:
    """The whole story of an unexpected error, written to a file for a bug report (stderr gets one line)."""
    import traceback

    try:
        with tempfile.NamedTemporaryFile("w", prefix="divergence-error-", suffix=".txt", delete=False, encoding="utf-8") as out:
            out.write(f"divergence {' '.join(argv)}\n\n")
            out.write("".join(traceback.format_exception(error)))
        return Path(out.name)
    except OSError:
        return None


def _unexpected(error: BaseException, details: Path | None = None) -> str:
    if isinstance(error, RecursionError):
        return "[E000] input nested too deeply to process"
    if isinstance(error, MemoryError):
        return "[E000] out of memory (is an input unreasonably large?)"
    detail = str(error).splitlines()[0] if str(error) else ""
    where = f" (details in {details})" if details else ""
    return f"[E000] unexpected error: {type(error).__name__}{': ' + detail if detail else ''}{where}"


def main() -> None:
    sys.exit(run())


if __name__ == "__main__":
    main()
