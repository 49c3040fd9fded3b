"""What a scenario asks for, after validation. Built by the loader or by the one-off commands."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from sipprobe.model.demarc import Equipment, Location, default_equipment
from sipprobe.model.dtmf import DtmfMethod
from sipprobe.model.hold import HoldMode
from sipprobe.model.session_timer import TimerUse
from sipprobe.model.thresholds import Thresholds
from sipprobe.sip.uri import SipUri

SERVICES = ("hosted-pbx", "sip-trunk", "internet")
STEP_KINDS = ("options", "register", "call", "wait", "nat_check", "capacity", "answer")


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
    account: str | None = None  # a name of ``Scenario.accounts``; None: the default account
    kind: Literal["register"] = "register"


@dataclass(frozen=True, slots=True)
class CallStep:
    to: str = "echo"  # a user part (dialled at the account's domain) or a full SIP URI
    duration_s: float = 5.0
    answer_timeout_s: float = 30.0
    expect_status: int = 200
    # The far end's RTP marking; None: not known (a sipprobe responder's answer may say it).
    expect_dscp: int | None = None
    parallel: int = 1  # simultaneous calls placed, held and hung up together
    # Named accounts (``Scenario.accounts``): the caller, and the callee when ``to`` names one
    # (a two-leg call the probe answers itself, run/legs.py).
    caller: str | None = None
    callee: str | None = None
    dtmf: str = ""  # DTMF digits sent once the call is up ("": none)
    dtmf_method: DtmfMethod = "rfc4733"
    hold_s: float = 0.0  # hold the call this long, then resume it (0: no hold)
    hold_mode: HoldMode = "sendonly"  # what the hold re-INVITE offers: sendonly or inactive
    # Session timers (RFC 4028): the interval asked for (None: the SIP stack's 1800 s
    # offered), and whether they are optional, required of the far end, or always used.
    session_expires_s: int | None = None
    session_timer: TimerUse = "optional"
    kind: Literal["call"] = "call"


@dataclass(frozen=True, slots=True)
class CapacityTestStep:
    """A trunk capacity test: ``step``, 2 x ``step``, ... ``channels`` simultaneous calls, each
    held ``hold_s``, until the first that is not good (run/capacitystep.py)."""

    channels: int
    to: str = "echo"
    step: int = 1
    hold_s: float = 10.0
    answer_timeout_s: float = 30.0
    kind: Literal["capacity"] = "capacity"


@dataclass(frozen=True, slots=True)
class WaitStep:
    seconds: float = 1.0
    kind: Literal["wait"] = "wait"


@dataclass(frozen=True, slots=True)
class NatCheckStep:
    """SIP ALG, NAT and UDP binding lifetime towards the target (see sipprobe/nat/check.py)."""

    transports: tuple[str, ...] = ("udp", "tcp")
    timeout_s: float = 5.0
    # A short binding measurement by default (30 s of idle time: bindings under 15 s show);
    # `sipprobe nat-check` keeps its own longer default (cli/nat.py).
    binding_intervals_s: tuple[float, ...] = (5.0, 10.0, 15.0)
    binding_max_s: float = 30.0  # total idle time spent measuring; 0: not measured
    keepalive_s: float | None = None  # the customer device's keepalive interval, if known
    kind: Literal["nat_check"] = "nat_check"


@dataclass(frozen=True, slots=True)
class AnswerStep:
    """Wait for a call to ``account`` (None: to the probe's own address, as an IP-authenticated
    trunk delivers them), answer it and hold it ``duration_s`` (run/inbound.py)."""

    account: str | None = None
    timeout_s: float = 60.0  # bound on the wait for the call
    duration_s: float = 10.0  # the answered call is held this long, then the probe hangs up
    # Regular expressions the call should match (searched, case-insensitive): the caller in
    # From or P-Asserted-Identity, the called number in To or the Request-URI; None: any.
    expect_from: str | None = None
    expect_to: str | None = None
    kind: Literal["answer"] = "answer"


Step = (
    OptionsStep | RegisterStep | CallStep | WaitStep | NatCheckStep | CapacityTestStep | AnswerStep
)


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    service: str
    target: SipUri
    transport: str
    steps: tuple[Step, ...]
    account: AccountSpec | None = None  # the default account: ``account``, or the first named
    tls: TlsSpec = field(default_factory=TlsSpec)
    codecs: tuple[str, ...] = ("PCMU", "PCMA")
    srtp: str = "off"  # off | optional | mandatory: SRTP with SDES keys
    bind: str = ""
    sip_port: int = 0  # the probe's SIP port; 0: any free one (an IP trunk calls a fixed one)
    media_file: str | None = None
    thresholds: Thresholds = field(default_factory=Thresholds)
    source: str = "<built-in>"
    step_lines: tuple[int | None, ...] = ()
    location: Location = Location.CUSTOMER_LAN  # where the probe stands
    equipment: Equipment | None = None  # None: the service's defaults
    accounts: tuple[tuple[str, AccountSpec], ...] = ()  # ``accounts:``, by name, in file order

    def named_account(self, name: str) -> AccountSpec:
        return dict(self.accounts)[name]

    @property
    def equipment_in_effect(self) -> Equipment:
        return self.equipment or default_equipment(self.service)

    @property
    def needs_sip_stack(self) -> bool:
        return any(
            isinstance(step, RegisterStep | CallStep | CapacityTestStep | AnswerStep)
            for step in self.steps
        )
