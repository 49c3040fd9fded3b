"""Whether the far end got the probe's ACK, read from the SIP timeline (plain Python).

A UAS retransmits its 2xx to an INVITE until the ACK arrives (RFC 3261 13.3.1.4, Timer G)
and gives up after Timer H (64 x T1, 32 s), usually with a BYE: the call that "drops after
about 32 seconds". So 2xx responses the probe keeps receiving after it sent its ACK mean the
ACK does not reach the far end (lost, or sent where the far end does not listen: a Contact
or Record-Route a NAT or SIP ALG rewrote).
"""

from __future__ import annotations

from collections.abc import Sequence

from sipprobe.model.results import SipEvent
from sipprobe.signalling.dialog import invite_response

ACK_LOST_AFTER = 2  # 2xx resent after the ACK: one may cross the ACK on the wire, two do not


def ok_resent_after_ack(events: Sequence[SipEvent]) -> int:
    """How many 2xx to the answered INVITE arrived after the probe first ACKed it."""
    answer = invite_response(events, 200)
    answered = answer.cseq if answer is not None else None
    if answered is None:
        return 0
    acked = False
    resent = 0
    for event in events:
        if event.cseq != answered:
            continue
        if event.direction == "tx" and event.is_request and event.method == "ACK":
            acked = True
        elif acked and event.direction == "rx" and event.method == "INVITE":
            resent += 1 if event.status_code == 200 else 0
    return resent
