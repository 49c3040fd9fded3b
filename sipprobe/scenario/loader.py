"""Load and validate scenario YAML, with ``file:line: key: problem`` errors.

``load_scenario`` reads the file and checks the top-level keys here (target, transport,
service, location, equipment, tls, codecs, srtp, thresholds, bind, sip_port, media_file ...);
the parts have their own modules: reader.py turns YAML nodes into checked values (file:line
errors, ``${VAR}`` substitution, the size limits), accounts.py the accounts, steps.py the
steps list and the small steps, call_step.py and answer_step.py the two big steps.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

import yaml

from sipprobe.errors import ScenarioError, UsageError
from sipprobe.model.demarc import (
    IADS,
    PBXES,
    PHONES,
    QOS_DEVICES,
    Equipment,
    Location,
    default_equipment,
)
from sipprobe.model.thresholds import Thresholds, threshold_range
from sipprobe.scenario.accounts import (
    MAX_ACCOUNTS,
    parse_account,
    parse_accounts,
    resolve_accounts,
)
from sipprobe.scenario.model import SERVICES, AccountSpec, Scenario, TlsSpec
from sipprobe.scenario.reader import (
    MAX_DEPTH,
    MAX_FILE_BYTES,
    MAX_NODES,
    MAX_NUMBER_CHARS,
    MAX_SCALAR_CHARS,
    Reader,
    compose,
    optional,
)
from sipprobe.scenario.steps import parse_steps
from sipprobe.sip.transports import TRANSPORTS
from sipprobe.sip.uri import parse_uri

# The limits are the reader's and accounts.py's; they stay importable from here, where they
# always were.
__all__ = [
    "MAX_ACCOUNTS",
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "MAX_NODES",
    "MAX_NUMBER_CHARS",
    "MAX_SCALAR_CHARS",
    "SRTP_CHOICES",
    "load_scenario",
    "parse_scenario",
]

SRTP_CHOICES = ("off", "optional", "mandatory")


def load_scenario(path: str, variables: Mapping[str, str] | None = None) -> Scenario:
    """Read and validate a scenario file; raises ScenarioError naming file, line and key."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(path, None, "", f"cannot read the file: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ScenarioError(path, None, "", "the file is not UTF-8 text") from exc
    return parse_scenario(text, path, variables or {})


def parse_scenario(text: str, path: str, variables: Mapping[str, str]) -> Scenario:
    root = compose(text, path)
    if root is None:
        raise ScenarioError(path, None, "", "the file is empty")
    reader = Reader(path, variables)
    top = reader.mapping(
        root,
        "",
        (
            "name",
            "service",
            "target",
            "transport",
            "bind",
            "sip_port",
            "account",
            "accounts",
            "tls",
            "codecs",
            "srtp",
            "media_file",
            "thresholds",
            "steps",
            "location",
            "equipment",
        ),
    )
    for required in ("target", "steps"):
        if required not in top:
            raise reader.fail(root, required, "required key is missing")
    target_node = top["target"][1]
    try:
        target = parse_uri(reader.text(target_node, "target"))
    except UsageError as exc:
        raise reader.fail(target_node, "target", str(exc)) from exc
    transport = optional(
        top, "transport", lambda n: reader.choice(n, "transport", TRANSPORTS), target.transport
    )
    steps, lines = parse_steps(reader, top["steps"][1])
    account = optional(top, "account", lambda n: parse_account(reader, n, target.host), None)
    no_accounts: tuple[tuple[str, AccountSpec], ...] = ()
    accounts = optional(
        top, "accounts", lambda n: parse_accounts(reader, n, target.host), no_accounts
    )
    if accounts:
        if account is not None:
            raise reader.fail(top["accounts"][0], "accounts", "give account or accounts, not both")
        account = accounts[0][1]
    steps = resolve_accounts(reader, top["steps"][1], steps, tuple(name for name, _ in accounts))
    service = optional(top, "service", lambda n: reader.choice(n, "service", SERVICES), "sip-trunk")
    locations = tuple(location.value for location in Location)
    return Scenario(
        name=optional(top, "name", lambda n: reader.text(n, "name", numbers=True), Path(path).stem),
        service=service,
        target=target.with_transport(transport),
        transport=transport,
        steps=steps,
        account=account,
        tls=optional(top, "tls", lambda n: _tls(reader, n), TlsSpec()),
        codecs=optional(top, "codecs", lambda n: reader.text_list(n, "codecs"), ("PCMU", "PCMA")),
        srtp=optional(top, "srtp", lambda n: reader.choice(n, "srtp", SRTP_CHOICES), "off"),
        bind=optional(top, "bind", lambda n: reader.text(n, "bind"), ""),
        sip_port=optional(top, "sip_port", lambda n: reader.integer(n, "sip_port", 0, 65535), 0),
        media_file=optional(top, "media_file", lambda n: reader.file_path(n, "media_file"), None),
        thresholds=optional(top, "thresholds", lambda n: _thresholds(reader, n), Thresholds()),
        source=path,
        step_lines=lines,
        location=Location(
            optional(
                top,
                "location",
                lambda n: reader.choice(n, "location", locations),
                Location.CUSTOMER_LAN.value,
            )
        ),
        equipment=optional(top, "equipment", lambda n: _equipment(reader, n, service), None),
        accounts=accounts,
    )


def _equipment(reader: Reader, node: yaml.Node, service: str) -> Equipment:
    """Who owns the customer's devices; keys not given keep the service's defaults."""
    entries = reader.mapping(node, "equipment", ("phones", "qos_device", "iad", "pbx"))
    default = default_equipment(service)
    choices = {"phones": PHONES, "qos_device": QOS_DEVICES, "iad": IADS, "pbx": PBXES}
    given: dict[str, Any] = {
        name: reader.choice(value, f"equipment.{name}", choices[name])
        for name, (_key, value) in entries.items()
    }
    return replace(default, **given)


def _tls(reader: Reader, node: yaml.Node) -> TlsSpec:
    entries = reader.mapping(node, "tls", ("verify", "ca_file"))
    return TlsSpec(
        verify=optional(entries, "verify", lambda n: reader.boolean(n, "tls.verify"), True),
        ca_file=optional(entries, "ca_file", lambda n: reader.file_path(n, "tls.ca_file"), None),
    )


def _thresholds(reader: Reader, node: yaml.Node) -> Thresholds:
    """Overrides of the verdict's thresholds; the ones not given keep their defaults."""
    names = tuple(f.name for f in fields(Thresholds))
    entries = reader.mapping(node, "thresholds", names)
    values = {
        name: reader.number(value, f"thresholds.{name}", *threshold_range(name))
        for name, (_key, value) in entries.items()
    }
    try:
        return Thresholds(**values)
    except ValueError as exc:
        raise reader.fail(node, "thresholds", str(exc)) from exc
