"""Result records shared by the signalling, verdict and report layers.

All of them are frozen: a layer hands its results on and nobody edits them afterwards, so a
report shows exactly what was measured. Units are part of field names (``_ms``, ``_s``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from sipprobe.model.demarc import Equipment, Location, Responsible
from sipprobe.model.dtmf import CallDtmf
from sipprobe.model.hold import CallHold
from sipprobe.model.legs import CalleeLeg
from sipprobe.model.media import CallEcho, CallListening, CallStream
from sipprobe.model.nat import CallAlgCheck
from sipprobe.model.outcome import ExitCode, Quality, Severity, Side
from sipprobe.model.session_timer import SessionTimer
from sipprobe.model.steps import StepDetail
from sipprobe.model.thresholds import Thresholds

# The enums live in sipprobe.model.outcome, so that start-up need not build these records; they
# are still part of this module's interface.
__all__ = [
    "Baseline",
    "BaselineFigure",
    "CallResult",
    "CaptureSummary",
    "Direction",
    "ExitCode",
    "Finding",
    "Quality",
    "RtcpSummary",
    "RunReport",
    "Severity",
    "Side",
    "SipEvent",
    "SipLimits",
    "StepResult",
    "Verdict",
]

Direction = Literal["tx", "rx"]


@dataclass(frozen=True, slots=True)
class SipEvent:
    """One SIP message sent or received, as it was on the wire (credentials redacted)."""

    index: int
    t_s: float  # seconds since the run started (monotonic clock)
    direction: Direction
    transport: str  # UDP, TCP, TLS (UDP6 etc. are folded into the address family of peer)
    peer: str  # "addr:port" or "[v6addr]:port"
    first_line: str
    method: str  # request method, or the CSeq method of a response
    status_code: int | None  # None for requests
    call_id: str
    cseq: int | None
    text: str

    @property
    def is_request(self) -> bool:
        return self.status_code is None


@dataclass(frozen=True, slots=True)
class RtcpSummary:
    """Media figures from the SIP stack's own RTP receiver and the far end's RTCP reports.

    ``rx_*`` are what the probe's receiver counted; ``tx_*`` are what the far end reported
    about the probe's stream in its RTCP receiver reports. Both come from pjmedia, not from a
    packet capture (that is the capture layer's job), so ``source`` says so.
    """

    source: str
    rx_packets: int
    rx_lost: int
    rx_loss_pct: float | None
    rx_jitter_mean_ms: float | None
    rx_jitter_max_ms: float | None
    tx_packets: int
    tx_lost_reported: int | None
    tx_jitter_reported_ms: float | None
    rtt_ms: float | None
    remote_rtp: str | None


@dataclass(frozen=True, slots=True)
class CallResult:
    """What one INVITE dialog did, measured from the signalling timeline."""

    target: str
    call_id: str
    status_code: int | None
    reason: str
    answered: bool
    trying_ms: float | None  # first INVITE sent -> first 100 Trying
    pdd_ms: float | None  # first INVITE sent -> first 18x (post-dial delay)
    answer_ms: float | None  # first INVITE sent -> 200 OK
    challenge: int | None  # 401 or 407 when the platform asked for credentials
    invite_retransmissions: int
    early_media: bool
    ringing: bool
    hold_s: float | None  # 200 OK -> BYE
    bye_ms: float | None  # BYE sent -> its final response
    bye_status: int | None
    hangup_by: Literal["probe", "remote"] | None
    offered_codecs: tuple[str, ...]
    codec: str | None
    rtcp: RtcpSummary | None
    local_disconnect: str | None = None  # why the probe's own stack ended an answered call
    echo: CallEcho | None = None  # round trip through an echoing far end (capture)
    srtp: bool | None = None  # the answer's audio profile is RTP/SAVP(F); None: no answer SDP
    streams: tuple[CallStream, ...] = ()  # measured from the run's capture, rx first
    # The RTP marking the far end declares in its 200 OK (X-Sipprobe-Rtp-Dscp); None: unknown.
    far_end_dscp: int | None = None
    # A sipprobe responder's view of the INVITE (X-Sipprobe-Received), diffed with what was sent.
    sip_alg: CallAlgCheck | None = None
    # Why the 200 OK's SDP answer cannot carry the call, quoting what the far end sent
    # (no SDP, unreadable SDP, no audio, address 0.0.0.0, port 0, no offered codec); None:
    # usable, or not answered.
    unusable_answer: str | None = None
    dtmf: CallDtmf | None = None  # digits sent and what came back; None: no DTMF asked
    hold: CallHold | None = None  # the hold and resume; None: no hold asked
    # 200 OKs the far end resent after the probe's ACK: the ACK did not reach it (0: none)
    ok_resent_after_ack: int = 0
    # MOS-LQO of the speech an echoing far end sent back (capture, G.711); None: not scored.
    listening: CallListening | None = None
    # The callee's leg when the probe called one of its own accounts (model/legs.py).
    callee: CalleeLeg | None = None
    # Session timers (RFC 4028) from the call's messages; None: none asked, none answered.
    session_timer: SessionTimer | None = None

    def streams_towards(self, direction: Direction) -> tuple[CallStream, ...]:
        return tuple(s for s in self.streams if s.direction == direction)

    @property
    def rx_stream(self) -> CallStream | None:
        """The first stream the probe received in the call, if the run captured one."""
        return next((s for s in self.streams if s.direction == "rx"), None)

    @property
    def disconnect_reason(self) -> str:
        return f"{self.status_code} {self.reason}" if self.status_code else self.reason


@dataclass(frozen=True, slots=True)
class StepResult:
    """The outcome of one scenario step.

    ``status_code`` is the final SIP status the target sent; ``origin`` tells whether that
    status really came from the network or was made up by the local stack (a transport error
    or timeout), which decides who a failure points at.
    """

    index: int
    kind: Literal["options", "register", "call", "wait", "nat_check", "answer"]
    name: str
    ok: bool
    status_code: int | None
    reason: str
    origin: Literal["network", "local", "none"]
    timings_ms: dict[str, float]
    detail: StepDetail  # one record per kind: OptionsDetail for "options", ...
    expected_status: int | None = None
    reachable: bool | None = None  # did the target send us any SIP at all in this step
    call: CallResult | None = None
    events: tuple[int, ...] = ()  # indexes into the run's SIP timeline


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing seen, with numbers, the side it points to and its evidence."""

    severity: Severity
    side: Side
    area: Literal["messaging", "media"]
    code: str  # stable machine name, e.g. "register-rejected"
    summary: str
    step: int | None = None
    evidence: tuple[int, ...] = ()  # SIP timeline indexes
    # Who must fix it and the support policy clause that says so (verdict/support_policy.py);
    # filled by the attribution pass after the rules named the side.
    responsible: Responsible = Responsible.UNDETERMINED
    policy: str = "undetermined"


@dataclass(frozen=True, slots=True)
class Verdict:
    messaging: Quality
    media: Quality
    findings: tuple[Finding, ...]
    summary: str

    @property
    def exit_code(self) -> ExitCode:
        qualities = [q for q in (self.messaging, self.media) if q is not Quality.UNKNOWN]
        if not qualities:
            return ExitCode.UNKNOWN
        if Quality.BAD in qualities:
            return ExitCode.CRITICAL
        if Quality.DEGRADED in qualities:
            return ExitCode.WARNING
        if self.messaging is Quality.UNKNOWN:
            return ExitCode.UNKNOWN
        return ExitCode.OK


@dataclass(frozen=True, slots=True)
class BaselineFigure:
    """One figure of a run against the same figure in earlier good runs (median and MAD)."""

    step: int
    metric: str  # a CallFigures field: pdd_ms, answer_ms, rx_loss_pct, rx_jitter_mean_ms, mos_lq
    value: float
    median: float
    mad: float
    limit: float  # worse than this is a regression
    runs: int  # how many earlier runs had this figure
    regression: bool


@dataclass(frozen=True, slots=True)
class Baseline:
    """How a run compared with the history of its scenario and target."""

    status: Literal["compared", "insufficient-history", "unavailable"]
    runs: int  # earlier good runs of the same scenario and target drawn on
    window: int  # at most this many of the most recent ones
    minimum: int  # fewer than this: no comparison
    reason: str
    figures: tuple[BaselineFigure, ...] = ()


@dataclass(frozen=True, slots=True)
class CaptureSummary:
    """The run's packet capture: where it is, what it caught, or why there is none."""

    path: str | None  # None when the capture was not kept (no --out)
    interface: str | None
    bpf_filter: str | None
    packets: int | None
    not_captured: int | None  # matched but not written (kernel drops included): > 0 means
    # streams may show loss that was not on the network
    error: str | None = None  # why there is no capture (no permission, no tcpdump)
    # The run's cap on its capture (packets and bytes, sized for its calls) and, when the
    # capture stopped at it, in words; packets after that are neither kept nor measured.
    limit: str | None = None
    rtp_packets: int | None = None  # RTP packets among ``packets`` (the analysis' streams)
    max_packets: int | None = None
    max_bytes: int | None = None


@dataclass(frozen=True, slots=True)
class SipLimits:
    """What the run's SIP timeline kept and what it did not (signalling/timeline.py keeps a
    bounded sample of a flood): the bounds, and the messages not kept, counted."""

    max_messages: int  # provisional responses kept in all; requests and finals: twice this
    max_repeats: int  # the same provisional response (call, CSeq, status) kept this often
    max_text_chars: int  # of one message's text
    dropped: tuple[tuple[str, int], ...] = ()  # why -> messages not kept
    dropped_from: tuple[tuple[str, int], ...] = ()  # peer "addr:port" -> not kept, most first
    dropped_calls: tuple[tuple[str, int], ...] = ()  # Call-ID -> not kept, most first
    truncated: int = 0  # messages kept with their text cut at max_text_chars
    unparsed: int = 0  # messages that were not SIP

    @property
    def dropped_provisional(self) -> int:
        return sum(n for why, n in self.dropped if "provisional" in why)

    @property
    def dropped_other(self) -> int:
        return sum(n for why, n in self.dropped if "provisional" not in why)


@dataclass(frozen=True, slots=True)
class RunReport:
    """Everything one run produced: the input, what happened, and the verdict."""

    scenario: str
    service: str
    target: str
    transport: str
    started_at: str  # ISO 8601 UTC
    duration_s: float
    steps: tuple[StepResult, ...]
    timeline: tuple[SipEvent, ...]
    verdict: Verdict
    probe: dict[str, str] = field(default_factory=dict)
    local_errors: tuple[str, ...] = ()
    capture: CaptureSummary | None = None
    thresholds: Thresholds = field(default_factory=Thresholds)  # what the verdict used
    baseline: Baseline | None = None  # set when the run was checked against its history
    location: Location = Location.CUSTOMER_LAN  # where the probe stood
    equipment: Equipment | None = None  # None: the service's defaults (model/demarc.py)
    sip_limits: SipLimits | None = None  # what the SIP timeline did not keep; None: not told

    @property
    def calls(self) -> tuple[CallResult, ...]:
        return tuple(s.call for s in self.steps if s.call is not None)
