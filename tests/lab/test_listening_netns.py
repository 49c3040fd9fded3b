"""Listening quality through a real router: P.862 MOS-LQO of the echoed speech, beside MOS-LQ.

The probe calls the responder (echo mode) from a customer namespace through a router
namespace (lab/netns.py) and plays its reference speech; the responder sends it back. Clean,
the speech that comes back scores as G.711 speech does (above 3.8); with 5 % of the downstream
RTP dropped at random by the router it scores clearly lower, and the E-model's MOS-LQ of the
received stream falls with it.
"""

from typing import Any

import pytest

from lab.netns import Netlab
from lab.probe import ProbeRun

pytestmark = pytest.mark.lab

CALL_S = 10.0
LOSS_PROBABILITY = 0.05
CLEAN_MOS_LQO = 3.8
CLEARLY_LOWER = 0.5  # MOS points: 5 % loss without concealment costs well over a point


def _listening(run: ProbeRun) -> tuple[dict[str, Any], float]:
    (call,) = run.report["calls"]
    listening = call["listening"]
    assert listening is not None, call["echo"]
    (rx,) = [s for s in call["streams"] if s["direction"] == "rx"]
    assert listening["model"].startswith("ITU-T P.862 narrowband")
    assert listening["active_speech_s"] > 4.0
    assert 0.0 <= listening["aligned_delay_ms"] < 1000.0
    return listening, rx["mos_lq"]


def test_listening_netns_clean_and_lossy_echo(netlab: Netlab) -> None:
    responder = netlab.start_responder()
    clean, clean_mos_lq = _listening(netlab.call(responder.uri(), CALL_S))
    assert clean["mos_lqo"] > CLEAN_MOS_LQO
    loss = netlab.drop_random("downstream", LOSS_PROBABILITY)
    lossy, lossy_mos_lq = _listening(netlab.call(responder.uri(), CALL_S))
    assert loss.hits() > 0
    assert lossy["mos_lqo"] < clean["mos_lqo"] - CLEARLY_LOWER
    assert lossy_mos_lq < clean_mos_lq
