"""No secret in any output: REGISTER and calls with a password against Kamailio and the responder.

Each run writes the whole bundle and its zip, the metrics file, and a report on stdout; every
byte of all of them is searched for the password and for a digest response value (the
nonce is redacted in the timeline, so the response cannot be recomputed: any
`response="` followed by 32 hex digits counts as a leak).
"""

import re
import zipfile
from collections.abc import Callable
from pathlib import Path

from lab.kamailio import Kamailio
from lab.probe import run_sipprobe, write_scenario
from lab.responder import Responder

DIGEST_RESPONSE = re.compile(rb'response="?[0-9a-f]{32}', re.IGNORECASE)
BUNDLE = {"report.json", "report.html", "report.md", "report.txt", "sip.log", "manifest.json"}
CAPTURE = "capture.pcap"  # in the bundle when the run could capture packets
# Characters no format escapes (HTML, JSON, XML, OpenMetrics): a byte search then sees a leak
# in every file, whatever its format.
PLAIN = re.compile(r"[A-Za-z0-9._~+=-]+")


def everything_written(directory: Path, *others: Path) -> dict[str, bytes]:
    """Every bundle file, every member of the bundle's zip, and the other files named."""
    files = {path.name: path.read_bytes() for path in directory.iterdir()}
    assert set(files) - {CAPTURE} == BUNDLE
    with zipfile.ZipFile(directory.with_name(directory.name + ".zip")) as archive:
        assert {Path(name).name for name in archive.namelist()} == set(files)
        files |= {f"zip:{name}": archive.read(name) for name in archive.namelist()}
    return files | {path.name: path.read_bytes() for path in others}


def assert_no_secret(outputs: dict[str, bytes], password: str) -> None:
    assert PLAIN.fullmatch(password), "pick a password that no output format escapes"
    for name, data in outputs.items():
        assert password.encode() not in data, f"password in {name}"
        assert DIGEST_RESPONSE.search(data) is None, f"digest response in {name}"


def test_bundle_register_and_proxy_authenticated_call_hold_no_secret(
    kamailio_factory: Callable[..., Kamailio],
    responder_factory: Callable[..., Responder],
    tmp_path: Path,
) -> None:
    far_end = responder_factory()
    kamailio = kamailio_factory(uas=(far_end.host, far_end.port), invite_auth=True)
    scenario = (
        f"name: secrets\ntarget: {kamailio.uri()}\naccount:\n  user: {kamailio.user}\n"
        f"  domain: {kamailio.domain}\n  password_env: LAB_PASSWORD\n"
        "steps:\n  - options\n  - register: {expires_s: 60}\n"
        "  - call: {to: uas, duration_s: 1, answer_timeout_s: 10}\n"
    )
    out, metrics = tmp_path / "evidence", tmp_path / "sipprobe.prom"
    result = run_sipprobe(
        "run",
        write_scenario(tmp_path, scenario),
        "--out",
        str(out),
        "--zip",
        "--metrics-file",
        str(metrics),
        "--format",
        "junit",
        env={"LAB_PASSWORD": kamailio.password},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    outputs = everything_written(out, metrics)
    sip_log = outputs["sip.log"].decode()
    # the credentials really went out: REGISTER after 401, INVITE after 407
    assert sip_log.count('Authorization: Digest username="alice"') >= 2
    assert 'Proxy-Authorization: Digest username="alice"' in sip_log
    assert 'response="<redacted>"' in sip_log
    outputs |= {"stdout": result.stdout.encode(), "stderr": result.stderr.encode()}
    assert_no_secret(outputs, kamailio.password)


def test_bundle_digest_challenged_call_to_the_responder_holds_no_secret(
    responder_factory: Callable[..., Responder], tmp_path: Path
) -> None:
    password = "Lab-secret.42~x"
    far_end = responder_factory(user="alice", password=password)
    out = tmp_path / "evidence"
    result = run_sipprobe(
        "call",
        far_end.uri(),
        "--user",
        "alice",
        "--duration",
        "1",
        "--out",
        str(out),
        "--zip",
        "--format",
        "nagios",
        env={"SIPPROBE_PASSWORD": password},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("SIPPROBE OK - ")
    outputs = everything_written(out)
    assert 'Authorization: Digest username="alice"' in outputs["sip.log"].decode()
    outputs |= {"stdout": result.stdout.encode(), "stderr": result.stderr.encode()}
    assert_no_secret(outputs, password)
