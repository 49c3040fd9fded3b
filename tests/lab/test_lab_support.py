"""The lab plumbing: ports, process cleanup, and the CI rule that nothing is skipped."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lab.environment import require_lab
from lab.kamailio import KamailioOptions, start_kamailio
from lab.ports import PeerNotReadyError, free_port, is_listening, wait_listening
from lab.process import session_members, start_peer

TESTS_DIR = Path(__file__).resolve().parent.parent


def test_ports_free_port_is_unique_and_bindable() -> None:
    ports = [free_port(span=3) for _ in range(20)]
    assert len(set(ports)) == len(ports)
    for port in ports[:3]:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", port + 2))
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind(("127.0.0.1", port))


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_ports_wait_listening_sees_udp_and_tcp(host: str) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with (
        socket.socket(family, socket.SOCK_DGRAM) as udp,
        socket.socket(family, socket.SOCK_STREAM) as tcp,
    ):
        udp.bind((host, 0))
        tcp.bind((host, 0))
        tcp_port = tcp.getsockname()[1]
        assert not is_listening("tcp", host, tcp_port)
        tcp.listen()
        wait_listening("udp", host, udp.getsockname()[1], timeout=1.0)
        wait_listening("tcp", host, tcp_port, timeout=1.0)


def test_ports_wait_listening_times_out() -> None:
    with pytest.raises(PeerNotReadyError, match="nothing listening"):
        wait_listening("udp", "127.0.0.1", free_port(), timeout=0.2)


def test_ports_wait_listening_stops_when_process_exits() -> None:
    process = subprocess.Popen(["true"])
    with pytest.raises(PeerNotReadyError, match="exited with 0"):
        wait_listening("udp", "127.0.0.1", free_port(), timeout=10.0, process=process)


def test_process_stop_kills_orphaned_workers(tmp_path: Path) -> None:
    # The shell exits on SIGTERM; its two sleeps would live on without the session sweep.
    argv = ["sh", "-c", "sleep 60 & sleep 60 & wait"]
    peer = start_peer("sh", argv, tmp_path / "sh.log", tmp_path)
    deadline = time.monotonic() + 5.0
    while len(session_members(peer.pid)) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(session_members(peer.pid)) == 3
    peer.stop(grace_s=2.0)
    assert session_members(peer.pid) == []


@pytest.mark.lab
def test_kamailio_stop_leaves_no_process_and_frees_ports(tmp_path: Path) -> None:
    require_lab("kamailio", "openssl")
    kamailio, process = start_kamailio(tmp_path, KamailioOptions())
    assert len(session_members(process.pid)) > 1  # main process and its workers
    process.stop()
    assert session_members(process.pid) == []
    assert not is_listening("udp", kamailio.host, kamailio.udp_port)
    assert not is_listening("tcp", kamailio.host, kamailio.tls_port)


def test_require_lab_skips_outside_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no-such-lab-binary"):
        require_lab("no-such-lab-binary")


def test_require_lab_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"no-such-lab-binary.*CI must run"):
        require_lab("no-such-lab-binary")


def _run_inner_pytest(
    tmp_path: Path, test_source: str, ci: str | None
) -> subprocess.CompletedProcess[str]:
    (tmp_path / "conftest.py").write_text((TESTS_DIR / "conftest.py").read_text())
    (tmp_path / "test_inner.py").write_text(test_source)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["PYTHONPATH"] = str(TESTS_DIR)
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rA", str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


_SKIPPING_TEST = """
import pytest

def test_skips():
    pytest.skip("no peer here")

@pytest.mark.xfail(reason="known")
def test_expected_failure():
    assert False

def test_passes():
    pass
"""


def test_conftest_skip_stays_skip_outside_ci(tmp_path: Path) -> None:
    result = _run_inner_pytest(tmp_path, _SKIPPING_TEST, ci=None)
    assert result.returncode == 0, result.stdout
    assert "1 passed, 1 skipped, 1 xfailed" in result.stdout


@pytest.mark.parametrize("ci", ["true", "1"])
def test_conftest_skip_fails_in_ci(tmp_path: Path, ci: str) -> None:
    result = _run_inner_pytest(tmp_path, _SKIPPING_TEST, ci=ci)
    assert result.returncode == 1, result.stdout
    assert "skipped in CI, which must run every test: Skipped: no peer here" in result.stdout
    assert "1 failed, 1 passed, 1 xfailed" in result.stdout


def test_conftest_collection_skip_fails_session_in_ci(tmp_path: Path) -> None:
    source = 'import pytest\n\npytest.skip("module needs a peer", allow_module_level=True)\n'
    result = _run_inner_pytest(tmp_path, source, ci="true")
    assert result.returncode == 1, result.stdout
    assert "CI skipped these while collecting" in result.stdout
    assert "module needs a peer" in result.stdout
