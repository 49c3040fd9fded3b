"""The callee's leg of a two-leg call in the verdict: did the platform deliver the call and
relay its media well towards the callee?

The caller's leg is judged as any call (verdict/media.py); the callee's streams get the same
rules, each finding's summary naming the leg, so loss on the way to the callee (invisible to
the caller, whose own sending is only its floor) is a finding like loss on the way back.

Which way the media went is read from the two legs' evidence (docs/demarc.md, "How a side
is chosen", two-leg calls): each leg's SDP says where that leg sends, the capture where each
leg receives. When the caller was told to send to the callee's own address (and the callee
to the caller's) the media went directly between the legs; otherwise the platform put a
media relay in the path, and the four directions are four streams: a -> relay, relay -> b,
b -> relay, relay -> a.

With a relay, both legs on the probe's one address reach the platform over the same access at
the same time. Loss on one relayed direction towards the probe (platform -> b) while the
opposite one (platform -> a) arrives whole over that same access, and the caller sent all its
packets, is not the access's doing: it is the platform's relay or its side of the path
(``relay-loss``, on the platform side, whatever the probe's location). The findings about
that stream's loss and the MOS it costs are then its consequence: kept, as info.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sipprobe.model.endpoint import Endpoint
from sipprobe.model.legs import CalleeLeg
from sipprobe.model.media import CallStream
from sipprobe.model.outcome import Severity, Side
from sipprobe.model.results import CallResult, Finding, StepResult
from sipprobe.model.steps import CallDetail
from sipprobe.model.thresholds import Thresholds
from sipprobe.verdict.media import severity_of, stream_findings

# Fewer packets than this in the clean direction say too little about the shared access.
RELAY_EVIDENCE_PACKETS = 100
# What relay-loss explains: the lossy stream's own findings, and the sender's tx-loss when the
# relay passed the receiving leg's RTCP reports of that loss back to it.
_EXPLAINED_RX = frozenset({"rx-loss", "rx-mos"})
_EXPLAINED_TX = frozenset({"tx-loss"})


@dataclass(frozen=True, slots=True)
class MediaPath:
    """Where each leg sent its RTP and where it received it ("host:port" each)."""

    callee: str  # the callee's account name
    caller_own: str  # the caller's RTP address (in the capture)
    callee_own: str
    caller_sends_to: str  # as the SDP the caller got says: the relay's side, or the callee
    callee_sends_to: str

    @property
    def relayed(self) -> bool:
        return self.caller_sends_to != self.callee_own or self.callee_sends_to != self.caller_own

    def describe(self) -> str:
        if self.relayed:
            return (
                f"relayed by the platform (media address {self.caller_sends_to} towards the "
                f"caller, {self.callee_sends_to} towards {self.callee})"
            )
        return (
            f"direct between the legs (caller {self.caller_own}, {self.callee} "
            f"{self.callee_own}): the platform relays signalling only"
        )


def _own_address(streams: tuple[CallStream, ...]) -> str | None:
    for stream in streams:
        info = stream.measured.stream
        return info.src if stream.direction == "tx" else info.dst
    return None


def _sends_to(streams: tuple[CallStream, ...]) -> str | None:
    return next((str(s.announced_rtp) for s in streams if s.announced_rtp is not None), None)


def media_path(call: CallResult, callee: CalleeLeg) -> MediaPath | None:
    """Which way a two-leg call's media went; None without both legs' streams."""
    ends = (
        _own_address(call.streams),
        _own_address(callee.streams),
        _sends_to(call.streams),
        _sends_to(callee.streams),
    )
    if any(end is None for end in ends):
        return None
    caller_own, callee_own, caller_sends_to, callee_sends_to = (str(end) for end in ends)
    return MediaPath(callee.account, caller_own, callee_own, caller_sends_to, callee_sends_to)


def call_media_findings(
    step: StepResult, detail: CallDetail, call: CallResult, limits: Thresholds
) -> list[Finding]:
    """The call's stream findings (verdict/media.py) and its callee leg's; the loss of a
    stream that the platform's relay is shown to have lost (relay-loss) is kept as info."""
    found = stream_findings(step, detail, call, limits) + callee_findings(
        step, detail, call, limits
    )
    markers = [
        marker
        for _, source, sent_to in _relay_losses(step, call, limits)
        for marker in (
            (_EXPLAINED_RX, f"RTP from {source} "),
            (_EXPLAINED_TX, f"RTP to {sent_to} "),
        )
    ]
    return [
        replace(
            f,
            severity=Severity.INFO,
            summary=f"{f.summary} (the platform's relay lost them: relay-loss)",
        )
        if any(f.code in codes and marker in f.summary for codes, marker in markers)
        else f
        for f in found
    ]


def _relay_losses(
    step: StepResult, call: CallResult, limits: Thresholds
) -> list[tuple[Finding, str, str]]:
    callee = call.callee
    if callee is None or not call.answered or callee.status_code is None:
        return []
    path = media_path(call, callee)
    if path is None:
        return []
    return _relay_loss(step, call, callee, path, limits)


def callee_findings(
    step: StepResult, detail: CallDetail, call: CallResult, limits: Thresholds
) -> list[Finding]:
    callee = call.callee
    if callee is None or not call.answered:
        return []
    prefix = f"callee leg {callee.account}: "
    if callee.status_code is None:
        return [
            Finding(
                Severity.WARNING,
                Side.UNKNOWN,
                "messaging",
                "callee-not-reached",
                f"{prefix}the call was answered ({call.status_code}) but never reached the "
                f"callee's account ({callee.error or 'no INVITE arrived'})",
                step.index,
                step.events,
            )
        ]
    if not callee.streams:
        return []
    as_call = replace(call, streams=callee.streams, callee=None)
    found = [
        replace(finding, summary=prefix + finding.summary)
        for finding in stream_findings(step, detail, as_call, limits)
    ]
    path = media_path(call, callee)
    if path is not None:
        found.extend(relay_loss_findings(step, call, callee, path, limits))
        found.append(
            Finding(
                Severity.INFO,
                Side.UNKNOWN,
                "media",
                "media-relayed" if path.relayed else "media-direct",
                f"{prefix}media {path.describe()}",
                step.index,
                step.events,
            )
        )
    return found


def _first(streams: tuple[CallStream, ...], direction: str) -> CallStream | None:
    return next((s for s in streams if s.direction == direction), None)


def relay_loss_findings(
    step: StepResult, call: CallResult, callee: CalleeLeg, path: MediaPath, limits: Thresholds
) -> list[Finding]:
    """Loss on one relayed direction towards the probe that the same access, carrying the
    other direction at the same time, did not cause: the platform's relay lost it."""
    return [finding for finding, _, _ in _relay_loss(step, call, callee, path, limits)]


def _relay_loss(
    step: StepResult, call: CallResult, callee: CalleeLeg, path: MediaPath, limits: Thresholds
) -> list[tuple[Finding, str, str]]:
    """Each relay-loss finding with the source of the stream it is about and where the
    sending leg sent that stream (the relay's address on the sender's side)."""
    if not path.relayed:
        return []
    if Endpoint.parse(path.caller_own).host != Endpoint.parse(path.callee_own).host:
        return []  # the legs are on different addresses: their access may differ
    name = callee.account
    directions = (
        (f"platform -> {name}", _first(callee.streams, "rx"), "caller -> platform",
         _first(call.streams, "tx"), "platform -> caller", _first(call.streams, "rx"),
         path.callee_sends_to),
        ("platform -> caller", _first(call.streams, "rx"), f"{name} -> platform",
         _first(callee.streams, "tx"), f"platform -> {name}", _first(callee.streams, "rx"),
         path.caller_sends_to),
    )  # fmt: skip
    found = []
    for lossy_label, lossy, sent_label, sent, clean_label, clean, relay in directions:
        if lossy is None or sent is None or clean is None:
            continue
        loss, sender, other = (s.measured.metrics for s in (lossy, sent, clean))
        severity = severity_of(limits.grade("loss", loss.loss_pct))
        if severity is None or sender.lost or other.lost or other.packets < RELAY_EVIDENCE_PACKETS:
            continue
        finding = Finding(
            severity,
            Side.PLATFORM,
            "media",
            "relay-loss",
            f"{lossy_label} lost {loss.loss_pct:.2f}% ({loss.lost} of {loss.expected} "
            f"packets) while {sent_label} was sent whole ({sender.packets} packets) and "
            f"{clean_label}, over the same access at the same time, lost none of "
            f"{other.packets}: the platform's media relay (media address {relay}) lost "
            "them, not the access",
            step.index,
            step.events,
        )
        found.append((finding, lossy.measured.stream.src, sent.measured.stream.dst))
    return found
