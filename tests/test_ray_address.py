"""--ray-address that nobody answers on is one line and exit 1 at once (Ray itself retries for minutes)."""

import pytest

from divergence.interfaces.cli import run
from tests.conftest import FIXTURES

pytest.importorskip("ray", reason="Ray is not installed (pip install -e '.[ray]')")


@pytest.mark.parametrize(("address", "message"), [
    ("127.0.0.1:1", "divergence: [E700] 127.0.0.1:1: cannot reach the Ray cluster: Connection refused"),
    ("ray://head", "divergence: [E700] ray://head: not a Ray address (host:port or ray://host:port)"),
])
def test_an_unreachable_cluster_is_one_line(address, message, capsys, tmp_path):
    code = run(["analyze", str(FIXTURES / "events" / "geneva-ministers"), "--engine", "ray", "--ray-address", address,
                "-f", "json", "-o", str(tmp_path / "report.json")])
    _, err = capsys.readouterr()
    assert code == 1
    assert err.strip().splitlines()[-1] == message
    assert not (tmp_path / "report.json").exists()
