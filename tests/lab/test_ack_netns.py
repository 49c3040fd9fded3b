"""The "call drops after about 32 seconds" case through a real router that loses the ACK.

The router namespace drops every ACK from the customer to the platform (an iptables string
match on the request line), so the responder keeps resending its 200 OK (Timer G) and gives
up after Timer H (32 s) with a BYE. The probe must name the case, with the number of 200 OKs
it received after its ACK.
"""

import pytest

from lab.netns import PLATFORM_ADDRESS, SIP_PORT, Netlab

pytestmark = pytest.mark.lab


def test_ack_netns_lost_ack_is_the_32_second_drop(netlab: Netlab) -> None:
    responder = netlab.start_responder()
    drop_ack = [
        *("iptables", "-w", "-A", "FORWARD", "-p", "udp", "-d", PLATFORM_ADDRESS),
        *("--dport", str(SIP_PORT), "-m", "string", "--string", "ACK sip:", "--algo", "bm"),
        *("-j", "DROP"),
    ]
    netlab.run_in(netlab.router, drop_ack)
    run = netlab.call(responder.uri(), 36.0, "--no-history", "--expect-dscp", "none")
    (call,) = run.report["calls"]
    assert call["status_code"] == 200 and call["hangup_by"] == "remote"
    # Timer G resends at 0.5, 1, 2, 4, 4, ... s: 11 of them until the responder checks Timer H
    # (32 s) at its next resend and sends its BYE instead, 35.5 s after the 200 OK
    assert 32.0 <= call["hold_s"] <= 36.5
    assert call["answer_ms"] < 100  # the first 200 OK is the answer, not its last resend
    assert 10 <= call["ok_resent_after_ack"] <= 11
    (finding,) = run.findings("call-dropped-ack-lost")
    assert (finding["severity"], finding["side"]) == ("critical", "unknown")
    assert "the 'call drops after about 32 seconds' case" in finding["summary"]
    assert not run.findings("call-dropped")
    assert run.returncode == 2
