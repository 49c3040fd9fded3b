"""Kamailio 5.6 as the lab's SIP platform: proxy, registrar and digest authentication.

The routing logic is tests/lab/kamailio/lab.cfg; this module prepends the `#!define` lines for
one instance (ports, credentials, options), writes the result and a tls.cfg into a directory of
the test, runs `kamailio -DD -E` in the foreground and waits until it answers OPTIONS.

Fixtures: `kamailio_factory(**options)` starts instances (stopped after the test);
`kamailio` is one instance with default options.
"""

import contextlib
import itertools
import re
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from lab.environment import require_lab
from lab.logs import attach_log
from lab.ports import LOOPBACK_V4, LOOPBACK_V6, free_port, ipv6_loopback_available, wait_listening
from lab.process import PeerProcess, read_tail, start_peer
from lab.sipclient import SipClient
from lab.sipmsg import new_request
from lab.tlsca import make_certificates

CONFIG_TEMPLATE = Path(__file__).with_name("kamailio") / "lab.cfg"
START_TIMEOUT_S = 15.0
SHM_MB = 64
PKG_MB = 8
_SAFE_VALUE = re.compile(r"[A-Za-z0-9._~+=-]+")


@dataclass(frozen=True, slots=True)
class KamailioOptions:
    """How one Kamailio instance behaves (see kamailio/lab.cfg)."""

    user: str = "alice"
    password: str | None = None  # None: a random one
    domain: str = LOOPBACK_V4
    uas: tuple[str, int] | None = None  # where requests to R-URI user "uas" go
    uas_transport: str = "udp"
    invite_auth: bool = False  # 407 for INVITEs without proxy credentials of `user`
    reject_bad_auth: bool = False  # 403 instead of a fresh 401 for a wrong password
    fr_timer_ms: int = 4000  # tm: no reply at all -> 408 after this
    fr_inv_timer_ms: int = 30000  # tm: provisional but no final reply -> 408 after this
    ipv6: bool = True  # also listen on UDP [::1] when the loopback has IPv6
    max_channels: int | None = None  # INVITEs to "uas" beyond this many dialogs: 503
    user_b: str | None = None  # a second user that may register, with its own password
    password_b: str | None = None  # None: a random one (with user_b)
    rtpengine: str | None = None  # an rtpengine ng socket (lab/rtpengine.py): media relayed
    # rtpengine's interface towards the offerer and towards the answerer (its --interface
    # names); None: its one interface for both
    rtpengine_directions: tuple[str, str] | None = None


@dataclass(frozen=True, slots=True)
class Kamailio:
    """A running lab Kamailio, as tests see it."""

    host: str
    udp_port: int
    tcp_port: int
    tls_port: int
    udp6_port: int | None
    ca_file: Path
    domain: str
    user: str
    password: str
    log_path: Path
    config_path: Path
    user_b: str | None = None
    password_b: str | None = None

    def port(self, transport: str = "udp") -> int:
        ports = {"udp": self.udp_port, "tcp": self.tcp_port, "tls": self.tls_port}
        return ports[transport.lower()]

    def address(self, transport: str = "udp") -> tuple[str, int]:
        return self.host, self.port(transport)

    def uri(self, transport: str = "udp", user: str | None = None) -> str:
        """SIP URI of the proxy (or of `user` at it) with an explicit transport parameter."""
        userinfo = f"{user}@" if user else ""
        return f"sip:{userinfo}{self.host}:{self.port(transport)};transport={transport}"

    def aor(self, user: str | None = None) -> str:
        """Address of record in the proxy's domain, `user` defaulting to the test user."""
        return f"sip:{user or self.user}@{self.domain}"


def _checked(name: str, value: str) -> str:
    if not _SAFE_VALUE.fullmatch(value):
        raise ValueError(f"{name} {value!r} must match {_SAFE_VALUE.pattern} for the lab config")
    return value


def render_config(options: KamailioOptions, kamailio: Kamailio, tls_config: Path) -> str:
    """The config text for one instance: its #!define lines followed by lab.cfg."""
    defines = {
        "LAB_UDP_PORT": str(kamailio.udp_port),
        "LAB_TCP_PORT": str(kamailio.tcp_port),
        "LAB_TLS_PORT": str(kamailio.tls_port),
        "LAB_DOMAIN": _checked("domain", options.domain),
        "LAB_USER": f'"{_checked("user", options.user)}"',
        "LAB_PASSWORD": f'"{_checked("password", kamailio.password)}"',
        "LAB_FR_TIMER_MS": str(options.fr_timer_ms),
        "LAB_FR_INV_TIMER_MS": str(options.fr_inv_timer_ms),
        "LAB_TLS_CFG": f'"{tls_config}"',
    }
    if kamailio.udp6_port is not None:
        defines["LAB_UDP6_PORT"] = str(kamailio.udp6_port)
    if options.user_b is not None and kamailio.password_b is not None:
        defines["LAB_USER_B"] = f'"{_checked("user_b", options.user_b)}"'
        defines["LAB_PASSWORD_B"] = f'"{_checked("password_b", kamailio.password_b)}"'
    if options.rtpengine is not None:
        defines["LAB_RTPENGINE"] = f'"{options.rtpengine}"'
        flags = "replace-origin replace-session-connection ICE=remove"
        defines["LAB_RTPENGINE_ANSWER"] = f'"{flags}"'
        for direction in options.rtpengine_directions or ():
            flags += f" direction={_checked('rtpengine direction', direction)}"
        defines["LAB_RTPENGINE_OFFER"] = f'"{flags}"'
    if options.max_channels is not None:
        defines["LAB_MAX_CHANNELS"] = str(int(options.max_channels))
    if options.uas is not None:
        uas_host, uas_port = options.uas
        transport = _checked("uas_transport", options.uas_transport)
        defines["LAB_UAS_URI"] = f'"sip:{uas_host}:{uas_port};transport={transport}"'
    lines = [f"#!define {name} {value}" for name, value in defines.items()]
    lines += [f"#!define {flag}" for flag, on in _flags(options) if on]
    return "\n".join(lines) + "\n\n" + CONFIG_TEMPLATE.read_text()


def _flags(options: KamailioOptions) -> list[tuple[str, bool]]:
    return [
        ("LAB_INVITE_AUTH", options.invite_auth),
        ("LAB_REJECT_BAD_AUTH", options.reject_bad_auth),
    ]


def _tls_config(cert: Path, key: Path) -> str:
    return (
        "[server:default]\n"
        "method = TLSv1.2+\n"
        "verify_certificate = no\n"
        "require_certificate = no\n"
        f"private_key = {key}\n"
        f"certificate = {cert}\n"
        "\n"
        "[client:default]\n"
        "method = TLSv1.2+\n"
        "verify_certificate = no\n"
        "require_certificate = no\n"
    )


def _wait_ready(kamailio: Kamailio, process: PeerProcess) -> None:
    for proto, port in (("udp", kamailio.udp_port), ("tcp", kamailio.tcp_port)):
        wait_listening(proto, kamailio.host, port, START_TIMEOUT_S, process=process.popen)
    wait_listening("tcp", kamailio.host, kamailio.tls_port, START_TIMEOUT_S, process=process.popen)
    if kamailio.udp6_port is not None:
        wait_listening(
            "udp", LOOPBACK_V6, kamailio.udp6_port, START_TIMEOUT_S, process=process.popen
        )
    # Bound sockets are not yet a routing script that runs: ask it.
    with SipClient("udp", kamailio.address("udp")) as client:
        probe = new_request(
            "OPTIONS",
            f"sip:{kamailio.host}:{kamailio.udp_port}",
            transport="udp",
            local=client.local,
            from_uri="sip:lab-ready@127.0.0.1",
            to_uri=f"sip:{kamailio.host}",
        )
        responses = client.transaction(probe, timeout=START_TIMEOUT_S)
    if not responses or responses[-1].status != 200:
        raise RuntimeError(f"kamailio did not answer OPTIONS with 200: {responses!r}")


def start_kamailio(directory: Path, options: KamailioOptions) -> tuple[Kamailio, PeerProcess]:
    """Write config and certificates into `directory`, start Kamailio, wait until it answers."""
    directory.mkdir(parents=True, exist_ok=True)
    certificates = make_certificates(directory / "tls")
    tls_cfg = directory / "tls.cfg"
    tls_cfg.write_text(_tls_config(certificates.server_cert, certificates.server_key))
    with_v6 = options.ipv6 and ipv6_loopback_available()
    udp_port = free_port((LOOPBACK_V4,))
    kamailio = Kamailio(
        host=LOOPBACK_V4,
        udp_port=udp_port,
        tcp_port=udp_port,
        tls_port=free_port((LOOPBACK_V4,)),
        udp6_port=free_port((LOOPBACK_V6,)) if with_v6 else None,
        ca_file=certificates.ca_file,
        domain=options.domain,
        user=options.user,
        password=options.password or secrets.token_hex(8),
        log_path=directory / "kamailio.log",
        config_path=directory / "kamailio.cfg",
        user_b=options.user_b,
        password_b=(options.password_b or secrets.token_hex(8)) if options.user_b else None,
    )
    kamailio.config_path.write_text(render_config(options, kamailio, tls_cfg))
    argv = [
        "kamailio", "-f", str(kamailio.config_path), "-DD", "-E",
        "-w", str(directory), "-Y", str(directory), "-P", str(directory / "kamailio.pid"),
        "-n", "1", "-N", "1", "-m", str(SHM_MB), "-M", str(PKG_MB),
    ]  # fmt: skip
    process = start_peer("kamailio", argv, kamailio.log_path, directory)
    try:
        _wait_ready(kamailio, process)
    except BaseException as exc:
        process.stop()
        log = read_tail(kamailio.log_path)
        raise RuntimeError(f"kamailio failed to start ({exc}); its log:\n{log}") from exc
    return kamailio, process


@pytest.fixture
def kamailio_factory(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Callable[..., Kamailio]]:
    """Start Kamailio instances with `KamailioOptions` fields as keyword arguments."""
    require_lab("kamailio", "openssl")
    running: list[PeerProcess] = []
    numbers = itertools.count()

    def start(**options: Any) -> Kamailio:
        directory = tmp_path / f"kamailio-{next(numbers)}"
        attach_log(request.node, f"kamailio log ({directory.name})", directory / "kamailio.log")
        kamailio, process = start_kamailio(directory, KamailioOptions(**options))
        running.append(process)
        return kamailio

    yield start
    # ExitStack stops every peer, last started first, even if stopping one of them fails.
    with contextlib.ExitStack() as stack:
        for process in running:
            stack.callback(process.stop)


@pytest.fixture
def kamailio(kamailio_factory: Callable[..., Kamailio]) -> Kamailio:
    """One Kamailio with default options: random password, no UAS, no INVITE auth."""
    return kamailio_factory()
