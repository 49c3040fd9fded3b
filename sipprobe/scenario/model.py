"""What a scenario asks for, after validation. Built by the loader or by the one-off commands."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from sipprobe.signalling.uri import SipUri
from sipprobe.verdict.thresholds import Thresholds

SERVICES = ("hosted-pbx", "sip-trunk", "internet")
STEP_KINDS = ("options", "register", "call", "wait")


@dataclass(frozen=True, slots=True)
class AccountSpec:
    """The identity the probe uses. The password is named, never written, here."""

    user: str
    domain: str
    auth_user: str
    realm: str = "*"
    password_env: str | None = None
    password_file: str | None = None

    @property
    def has_password(self) -> bool:
        return bool(self.password_env or self.password_file)


@dataclass(frozen=True, slots=True)
class TlsSpec:
    verify: bool = True
    ca_file: str | None = None


@dataclass(frozen=True, slots=True)
class OptionsStep:
    timeout_s: float = 5.0
    uri: SipUri | None = None  # default: the scenario target
    kind: Literal["options"] = "options"


@dataclass(frozen=True, slots=True)
class RegisterStep:
    expires_s: int = 300
    timeout_s: float = 10.0
    kind: Literal["register"] = "register"


@dataclass(frozen=True, slots=True)
class CallStep:
    to: str = "echo"  # a user part (dialled at the account's domain) or a full SIP URI
    duration_s: float = 5.0
    answer_timeout_s: float = 30.0
    expect_status: int = 200
    expect_dscp: int | None = 46  # the far end's RTP marking (EF); None: no expectation
    parallel: int = 1  # simultaneous calls placed, held and hung up together
    kind: Literal["call"] = "call"


@dataclass(frozen=True, slots=True)
class WaitStep:
    seconds: float = 1.0
    kind: Literal["wait"] = "wait"


Step = OptionsStep | RegisterStep | CallStep | WaitStep


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    service: str
    target: SipUri
    transport: str
    steps: tuple[Step, ...]
    account: AccountSpec | None = None
    tls: TlsSpec = field(default_factory=TlsSpec)
    codecs: tuple[str, ...] = ("PCMU", "PCMA")
    srtp: str = "off"  # off | optional | mandatory: SRTP with SDES keys
    bind: str = ""
    media_file: str | None = None
    thresholds: Thresholds = field(default_factory=Thresholds)
    source: str = "<built-in>"
    step_lines: tuple[int | None, ...] = ()

    @property
    def needs_sip_stack(self) -> bool:
        return any(isinstance(step, RegisterStep | CallStep) for step in self.steps)
