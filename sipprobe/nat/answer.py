"""What a far end's 200 OK says about the call's INVITE and its media (pure, from the timeline).

A sipprobe responder puts three headers in the 200 OK of an INVITE (responder/wire.py):

- ``X-Sipprobe-Rtp-Dscp``: the DSCP it marks its RTP with, so the probe judges the marking
  that arrives against a known one (verdict/media.py);
- ``X-Sipprobe-Received``: base64 of the INVITE's Via, Contact and SDP lines as they arrived,
  which the probe compares with the INVITE it sent (a SIP ALG's rewrites, nat/diff.py);
- ``X-Sipprobe-Source``: the address and port the INVITE came from (the customer's public
  address when no proxy stands between).

Other far ends send none of them: the call then has neither a declared marking nor an ALG
check, and nothing is assumed in their place.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import replace

from sipprobe.model.endpoint import Endpoint
from sipprobe.model.nat import CallAlgCheck
from sipprobe.model.results import CallResult, SipEvent
from sipprobe.nat.diff import diff_as_received, via_parameters
from sipprobe.sip.message import SipMessage, parse_message
from sipprobe.sip.mirror import SOURCE_HEADER

DSCP_HEADER = "x-sipprobe-rtp-dscp"
RECEIVED_HEADER = "x-sipprobe-received"


def answered_invite(events: Sequence[SipEvent]) -> tuple[SipEvent, SipEvent] | None:
    """The INVITE the probe sent that got a 2xx, and that 2xx (the first one received)."""
    for answer in events:
        code = answer.status_code
        if answer.direction != "rx" or answer.method != "INVITE" or code is None:
            continue
        if not 200 <= code < 300:
            continue
        for sent in events:
            if (
                sent.direction == "tx"
                and sent.is_request
                and sent.method == "INVITE"
                and (sent.call_id, sent.cseq) == (answer.call_id, answer.cseq)
            ):
                return sent, answer
        return None
    return None


def declared_dscp(answer: SipMessage) -> int | None:
    """The DSCP the far end says it marks its RTP with (0-63), or None."""
    value = (answer.header(DSCP_HEADER) or "").strip()
    if not value.isdigit() or not 0 <= int(value) <= 63:
        return None
    return int(value)


def _host(address: str | None) -> str | None:
    if not address:
        return None
    try:
        return Endpoint.parse(address.strip()).host or None
    except ValueError:
        return None


def alg_check(sent: SipEvent, answer: SipEvent, message: SipMessage) -> CallAlgCheck | None:
    """The INVITE as the responder received it against ``sent``; None without the header."""
    encoded = message.header(RECEIVED_HEADER)
    if encoded is None:
        return None
    seen_from = message.header(SOURCE_HEADER.lower())
    check = CallAlgCheck(
        seen_from=seen_from.strip() if seen_from else None,
        public_address=None,
        proxies=(),
        rewrites=(),
        evidence=(sent.index, answer.index),
        error=None,
    )
    try:
        received = base64.b64decode(encoded.strip(), validate=True).decode("utf-8", "replace")
        rewrites, proxies = diff_as_received(sent.text, received)
    except (binascii.Error, ValueError) as exc:
        return replace(check, error=f"{RECEIVED_HEADER} could not be compared: {exc}")
    public = _host(check.seen_from)
    if proxies:
        # The responder saw the last proxy; the first proxy noted the probe's address in the
        # probe's own Via (``received``), when it differed from the Via's sent-by.
        own = next((r.after for r in rewrites if r.part == "Via" and r.after), None)
        own = own or _own_via(received, len(proxies))
        public = via_parameters(own).get("received") or None if own else None
    return replace(check, public_address=public, proxies=proxies, rewrites=rewrites)


def _own_via(received: str, proxies: int) -> str | None:
    vias = [
        line.partition(":")[2].strip()
        for line in received.replace("\r\n", "\n").split("\n")
        if line.partition(":")[0].strip().lower() in ("via", "v")
    ]
    return vias[proxies] if len(vias) > proxies else None


def with_far_end_answer(call: CallResult, events: Sequence[SipEvent]) -> CallResult:
    """``call`` with what its 2xx says: the declared RTP marking and the ALG check."""
    pair = answered_invite(events)
    if pair is None:
        return call
    sent, answer = pair
    try:
        message = parse_message(answer.text)
    except ValueError:
        return call
    return replace(
        call, far_end_dscp=declared_dscp(message), sip_alg=alg_check(sent, answer, message)
    )
