"""One call the responder accepted: its INVITE transaction while it runs, its dialog and its
media (responder/uas.py decides what happens to it), the responses sent within it, and the
addresses it is answered from.
"""

from __future__ import annotations

import socket

from sipprobe.responder import sdp, session_timer, wire
from sipprobe.responder.loop import Timer
from sipprobe.responder.media import RTP_DSCP, MediaSession
from sipprobe.responder.transport import Channel
from sipprobe.sip.mirror import response_address

T1_S, T2_S = 0.5, 4.0
TIMER_H_S = 64 * T1_S


class Call:
    """One accepted call: its INVITE transaction while it runs, its dialog and media."""

    def __init__(
        self,
        request: wire.Request,
        source: tuple[str, int],
        channel: Channel,
        local_host: str,
        received: str,
    ) -> None:
        self.received = received
        self.invite: wire.Request | None = request  # until the ACK: for 487 and retransmits
        self.branch = request.branch
        self.source = source
        self.reply_to = response_address(request.message, source)
        self.channel = channel
        self.local_host = local_host
        self.local_tag = wire.new_tag()
        self.key = (request.call_id, self.local_tag)
        self.label = request.label()
        self.ids = wire.dialog_ids(request, self.local_tag)
        self.state = "early"  # early -> answered (200 sent) -> confirmed (ACK) -> ended
        self.last_response = b""
        self.answer_sdp = ""
        self.sdp_version = 0  # the answer's o= version, raised with each changed answer
        self.info_digits = ""  # DTMF digits received in SIP INFO
        self.media: MediaSession | None = None
        self.timer: Timer | None = None
        self.interval_s = T1_S
        self.answered_s = 0.0
        self.confirmed_s = 0.0
        self.session = session_timer.SessionClock()  # RFC 4028

    def contact(self) -> str:
        transport = (
            "" if self.channel.transport == "udp" else f";transport={self.channel.transport}"
        )
        return f"<sip:responder@{wire.hostport(self.local_host, self.channel.local[1])}{transport}>"

    def confirm(self, now: float) -> None:
        """The ACK arrived: the dialog is confirmed and its media may send."""
        self.state = "confirmed"
        self.confirmed_s = now
        self.invite = None
        if self.timer is not None:
            self.timer.cancel()
        assert self.media is not None
        self.media.confirm(now)

    def respond(self, request: wire.Request, code: int, reason: str, body: str = "") -> bytes:
        """Send a response to the call's INVITE (``request``) with the dialog's tag; a 200
        carries the evidence headers (``X-Sipprobe-Rtp-Dscp``, ``-Received``, ``-Source``)."""
        extra = [("Contact", self.contact())]
        if code == 200:
            extra += [("Allow", wire.ALLOW), (wire.DSCP_HEADER, str(RTP_DSCP))]
            extra += [(wire.RECEIVED_HEADER, self.received), wire.source_header(self.source)]
            extra += self.session.headers()
        data = wire.response(
            request, code, reason, self.source, to_tag=self.local_tag, extra=extra, body=body
        )
        self.channel.send(data, self.reply_to)
        return data

    def answer_reoffer(self, request: wire.Request) -> str | None:
        """Answer a re-INVITE's direction: sendonly (hold) is answered recvonly and inactive
        inactive, and the media stops sending until an offer lets it send again. Without an
        offer (a refresh) the answer stays as it was and None is returned; else the
        direction answered."""
        if "application/sdp" not in (request.header("content-type") or "").lower():
            return None
        direction = sdp.answer_direction(sdp.offer_direction(request.body))
        if self.media is not None:
            self.media.sending = direction in ("sendrecv", "sendonly")
        self.sdp_version += 1
        self.answer_sdp = sdp.with_direction(self.answer_sdp, direction, self.sdp_version)
        return direction

    def dtmf_received(self) -> tuple[list[str], int]:
        """The DTMF digits the call received, per method (``rfc4733=159#``, ``sip-info=42``,
        ``inband=7``), and how many of them its in-band listener heard."""
        rtp = self.media.digits if self.media is not None else ""
        listener = self.media.inband if self.media is not None else None
        tones = listener.digits() if listener is not None else ""
        methods = (("rfc4733", rtp), ("sip-info", self.info_digits), ("inband", tones))
        return [f"{name}={digits}" for name, digits in methods if digits], len(tones)


def local_address_towards(address: str) -> str:
    """The local address the kernel would send from to reach ``address`` (no packet sent)."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect((address, 9))
            return str(probe.getsockname()[0])
        except OSError:
            return "::1" if family == socket.AF_INET6 else "127.0.0.1"


def call_hosts(listening_host: str, caller: str, offer: sdp.Negotiated) -> tuple[str, str]:
    """The call's SIP host (for its Contact and BYE) and media host: the address the
    transport listens on, or when that is a wildcard the one towards the ``caller``; the
    media host in the offer's address family."""
    local_host = listening_host
    if local_host in ("", "0.0.0.0", "::"):
        local_host = local_address_towards(caller)
    media_host = local_host
    if offer.ipv6 != (":" in media_host):
        media_host = "127.0.0.1" if media_host == "::1" else local_address_towards(offer.address)
    return local_host, media_host
