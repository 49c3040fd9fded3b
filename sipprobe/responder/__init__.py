"""The responder: a far end to call, built to be exposed to the internet.

A pure-Python SIP user agent server and RTP/RTCP packet reflector in one process and one
thread (no pjsua2: its pjlib ioqueue aborts under load, and a network peer must not be able
to reach an assertion). Modules:

- ``server``: listeners, the loop, signals, orderly stop;
- ``transport``: UDP, TCP and TLS with per-source connection limits and idle timeouts;
- ``uas``: INVITE, ACK, CANCEL, BYE, OPTIONS; digest challenge; refusals at the limits;
- ``sdp``: the answer (codec, telephone-event, SDES crypto of the offer);
- ``media``: the reflector and tone, symmetric RTP latched only after the ACK;
- ``rtcp``: reception statistics and reports (RFC 3550);
- ``limits``: the limits, the per-source accounting and the counters;
- ``wire``: the one adapter to the project's SIP parser, and the messages the responder writes;
- ``loop``: the epoll loop with timers.
"""

from sipprobe.responder.limits import Limits
from sipprobe.responder.server import Server, ServerSettings
from sipprobe.responder.uas import UasSettings

__all__ = ["Limits", "Server", "ServerSettings", "UasSettings"]
