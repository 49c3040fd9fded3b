"""A trunk capacity test: simultaneous calls raised step by step to the contracted channels."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sipprobe.model.outcome import ExitCode, Severity, Side
from sipprobe.model.results import RunReport


@dataclass(frozen=True, slots=True)
class CodecBandwidth:
    """What one call needs in each direction, and all the channels together (kbit/s)."""

    codec: str
    ptime_ms: float
    ip_kbit_s: float  # IP, UDP and RTP headers included
    ethernet_kbit_s: float  # plus Ethernet header, FCS, preamble and gap
    channels_ethernet_kbit_s: float


FailureHow = Literal["status", "setup", "media", "no-answer", "probe"]


@dataclass(frozen=True, slots=True)
class CapacityFailure:
    """The first call that failed, and how: a status code, a slow setup, or its media."""

    calls: int  # simultaneous calls of the step it failed in
    call_number: int  # 1-based within that step
    how: FailureHow
    status_code: int | None
    setup_ms: float | None
    detail: str


@dataclass(frozen=True, slots=True)
class CapacityStep:
    """One step: its number of calls, held together, and the run that measured them."""

    calls: int
    answered: int
    good: bool
    rx_loss_max_pct: float | None
    tx_loss_max_pct: float | None
    setup_max_ms: float | None
    report: RunReport


@dataclass(frozen=True, slots=True)
class CapacityResult:
    target: str
    channels: int  # what the customer bought
    step: int
    hold_s: float
    steps: tuple[CapacityStep, ...]
    highest_good: int  # most simultaneous calls with every call answered and media good
    failure: CapacityFailure | None
    side: Side
    severity: Severity | None  # None: every step up to the channels was good
    conclusion: str
    bandwidth: tuple[CodecBandwidth, ...]

    @property
    def exit_code(self) -> ExitCode:
        if self.severity is None:
            return ExitCode.OK if self.steps else ExitCode.UNKNOWN
        return ExitCode.CRITICAL if self.severity is Severity.CRITICAL else ExitCode.WARNING


def step_sizes(channels: int, step: int) -> list[int]:
    """K, 2K, ... and always the contracted channels last."""
    sizes = list(range(step, channels, step))
    return [*sizes, channels]
