"""What each kind of scenario step records beside its status: one record per kind.

``StepResult.detail`` holds one of them, so the verdict and the reports read fields whose
type mypy knows (docs/architecture.md, "The model"); the JSON report writes them as the
step's ``detail`` object, with the keys these fields are named after.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sipprobe.model.endpoint import Endpoint
from sipprobe.model.inbound import AnswerDetail
from sipprobe.model.nat import NatCheckResult

__all__ = [
    "AnswerDetail",
    "CallDetail",
    "ContactBinding",
    "NatCheckDetail",
    "OptionsDetail",
    "RegisterDetail",
    "StepDetail",
    "WaitDetail",
]


@dataclass(frozen=True, slots=True)
class OptionsDetail:
    server: str | None
    user_agent: str | None
    allow: tuple[str, ...]
    supported: tuple[str, ...]
    retransmissions: int
    error: str | None  # why no answer came, in one sentence
    timeout_s: float


@dataclass(frozen=True, slots=True)
class ContactBinding:
    """A Contact as written in a REGISTER or its answer, and the address its URI names
    (port 5060 when none is written; ``None`` when it names none), parsed once."""

    text: str
    address: Endpoint | None


@dataclass(frozen=True, slots=True)
class RegisterDetail:
    action: Literal["register", "unregister"]
    expires_s: int | None  # what the registrar granted
    requested_expires_s: int
    contacts: tuple[ContactBinding, ...]  # the bindings the registrar holds
    contact_sent: ContactBinding | None
    challenge: int | None  # 401 or 407 when the registrar asked for credentials
    credentials: str | None  # where the password came from; None: none configured


@dataclass(frozen=True, slots=True)
class CallDetail:
    duration_s: float  # planned
    expect_dscp: int | None  # what the far end marks its RTP with; None: not checked
    srtp: str  # "off", "optional" or "mandatory"
    timed_out: str | None  # which phase hit its bound: "answer" or "bye"
    credentials: str | None


@dataclass(frozen=True, slots=True)
class NatCheckDetail:
    result: NatCheckResult


@dataclass(frozen=True, slots=True)
class WaitDetail:
    seconds: float


StepDetail = (
    OptionsDetail | RegisterDetail | CallDetail | NatCheckDetail | WaitDetail | AnswerDetail
)
