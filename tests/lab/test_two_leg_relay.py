"""Two-leg calls through a platform that relays media: Kamailio with rtpengine.

Kamailio (tests/lab/kamailio/lab.cfg with LAB_RTPENGINE) hands each INVITE's SDP offer and its
answer to rtpengine (tests/lab/rtpengine.py, userspace, media on its own loopback address), so
each leg's SDP names the relay and RTP goes a -> relay -> b and b -> relay -> a: the four
directions of a two-leg call are four distinct streams in the capture (docs/demarc.md, "Two-leg
calls").
"""

import json
from collections.abc import Callable
from pathlib import Path

from lab.kamailio import Kamailio
from lab.probe import run_probe, write_scenario
from lab.rtpengine import RtpEngine
from lab.test_two_leg_calls import two_leg_scenario


def _stream(leg: dict, direction: str) -> dict:  # type: ignore[type-arg]
    (stream,) = [s for s in leg["streams"] if s["direction"] == direction]
    return stream


def test_two_leg_call_through_rtpengine_measures_four_relayed_directions(
    kamailio_factory: Callable[..., Kamailio], rtpengine: RtpEngine, tmp_path: Path
) -> None:
    kamailio = kamailio_factory(user_b="bob", rtpengine=rtpengine.ng_socket)
    assert kamailio.password_b is not None
    run = run_probe(
        "run",
        write_scenario(tmp_path, two_leg_scenario(kamailio)),
        env={"PASSWORD_A": kamailio.password, "PASSWORD_B": kamailio.password_b},
    )
    (tmp_path / "report.json").write_text(json.dumps(run.report))
    assert run.returncode == 0, (run.report["verdict"], run.stderr)
    (call,) = run.report["calls"]
    callee = call["callee"]
    a_tx, a_rx = _stream(call, "tx"), _stream(call, "rx")
    b_tx, b_rx = _stream(callee, "tx"), _stream(callee, "rx")
    print(json.dumps([a_tx, a_rx, b_tx, b_rx], indent=1))
    print(run.findings())
