"""Run the `divergence` command in process: its exit code and what it wrote, without starting Python again."""

from __future__ import annotations

import contextlib
import io
import sys
from dataclasses import dataclass

from divergence.interfaces.cli import run


@dataclass
class Done:
    returncode: int
    stdout: str
    stderr: str


def run_cli(*args: str, stdin: str | bytes | None = None) -> Done:
    out, err = io.StringIO(), io.StringIO()
    data = stdin.encode("utf-8") if isinstance(stdin, str) else (stdin or b"")
    fake_stdin = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8")
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), _swap_stdin(fake_stdin):
        code = run([str(a) for a in args])
    return Done(int(code), out.getvalue(), err.getvalue())


@contextlib.contextmanager
def _swap_stdin(stream):
    saved = sys.stdin
    sys.stdin = stream
    try:
        yield
    finally:
        sys.stdin = saved
