"""The verdict of lab runs, clean and impaired, as a support engineer would assign it.

Each row sets up real peers, runs the real command and compares the verdict (messaging,
media), the side of the demarc each critical or warning finding points to, and the exit code.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from lab.kamailio import Kamailio
from lab.ports import free_port
from lab.probe import run_probe, write_scenario
from lab.responder import Responder
from lab.sipp import SippUas


@dataclass(frozen=True, slots=True)
class Lab:
    kamailio: Callable[..., Kamailio]
    sipp: Callable[..., SippUas]
    responder: Callable[..., Responder]
    directory: Path


Command = tuple[tuple[str, ...], dict[str, str]]  # sipprobe arguments, environment


def register_run(lab: Lab, kamailio: Kamailio, password: str, transport: str = "udp") -> Command:
    scenario = (
        f"name: reg\nservice: hosted-pbx\ntarget: {kamailio.uri(transport)}\n"
        f"account:\n  user: {kamailio.user}\n  domain: {kamailio.domain}\n"
        "  password_env: LAB_PASSWORD\nsteps:\n  - options: {timeout_s: 3}\n"
        "  - register: {timeout_s: 5}\n"
    )
    return ("run", write_scenario(lab.directory, scenario)), {"LAB_PASSWORD": password}


def clean_call(lab: Lab) -> Command:
    return ("call", lab.responder(ring_ms=200).uri(), "--duration", "2"), {}


def busy_callee(lab: Lab) -> Command:
    return ("call", lab.sipp("busy").uri(), "--duration", "1"), {}


def silent_callee(lab: Lab) -> Command:
    return ("call", lab.sipp("silent").uri(), "--answer-timeout", "2"), {}


def wrong_password(lab: Lab) -> Command:
    return register_run(lab, lab.kamailio(), "not-the-password")


def tls_without_ca(lab: Lab) -> Command:
    kamailio = lab.kamailio()
    return register_run(lab, kamailio, kamailio.password, "tls")


def platform_cannot_reach_callee(lab: Lab) -> Command:
    kamailio = lab.kamailio(uas=("127.0.0.1", free_port(("127.0.0.1",))), fr_timer_ms=1000)
    return ("call", kamailio.uri(user="uas"), "--answer-timeout", "10"), {}


def slow_post_dial_delay_for_the_scenario(lab: Lab) -> Command:
    responder = lab.responder(ring_ms=200)
    scenario = (
        f"name: strict-pdd\ntarget: {responder.uri()}\n"
        "thresholds: {pdd_degraded_ms: 0, pdd_bad_ms: 60000}\n"
        "steps:\n  - call: {to: 'sip:echo@" + f"{responder.host}:{responder.port}', "
        "duration_s: 1}\n"
    )
    return ("run", write_scenario(lab.directory, scenario)), {}


@dataclass(frozen=True, slots=True)
class Case:
    setup: Callable[[Lab], Command]
    messaging: str
    media: str
    sides: dict[str, str]  # finding code -> side, for critical and warning findings
    exit_code: int


CASES = {
    "clean call to the responder": Case(clean_call, "good", "good", {}, 0),
    "486 from a SIPp callee": Case(busy_callee, "bad", "unknown", {"call-failed": "unknown"}, 2),
    "SIPp callee that never answers": Case(
        silent_callee, "bad", "unknown", {"call-no-answer": "unknown"}, 2
    ),
    "wrong password at Kamailio": Case(
        wrong_password, "bad", "unknown", {"register-rejected": "customer-equipment"}, 2
    ),
    "TLS without the platform's CA": Case(
        tls_without_ca,
        "bad",
        "unknown",
        # the REGISTER's TLS failure follows from the OPTIONS' one: info, not a second cause
        {"options-no-answer": "unknown"},
        2,
    ),
    "Kamailio cannot reach the callee (408)": Case(
        platform_cannot_reach_callee, "bad", "unknown", {"call-failed": "platform"}, 2
    ),
    "post-dial delay beyond the scenario's threshold": Case(
        slow_post_dial_delay_for_the_scenario,
        "degraded",
        "good",
        {"post-dial-delay": "platform"},
        1,
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_verdict_table(
    name: str,
    kamailio_factory: Callable[..., Kamailio],
    sipp_uas: Callable[..., SippUas],
    responder_factory: Callable[..., Responder],
    tmp_path: Path,
) -> None:
    case = CASES[name]
    args, env = case.setup(Lab(kamailio_factory, sipp_uas, responder_factory, tmp_path))
    run = run_probe(*args, "--no-capture", env=env)
    verdict = run.report["verdict"]
    sides = {f["code"]: f["side"] for f in verdict["findings"] if f["severity"] != "info"}
    assert (verdict["messaging"], verdict["media"], sides, run.returncode) == (
        case.messaging,
        case.media,
        case.sides,
        case.exit_code,
    ), verdict
