"""Load and validate scenario YAML, with ``file:line: key: problem`` errors.

The file is composed into YAML nodes (not loaded into plain data) so every value keeps its
line number until it has been checked. ``${NAME}`` and ``${NAME:-default}`` in any value are
replaced from ``--var`` first, then the environment.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import fields, replace
from pathlib import Path
from typing import Any, TypeVar, cast

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
from sipprobe.model.dtmf import DTMF_METHODS, DtmfMethod, dtmf_problem
from sipprobe.model.hold import HOLD_MODES, HoldMode, hold_duration_problem
from sipprobe.model.limits import MAX_CALLS, MAX_PARALLEL_CALLS
from sipprobe.model.session_timer import MIN_SE_S, TIMER_USES, TimerUse
from sipprobe.model.thresholds import Thresholds, threshold_range
from sipprobe.scenario.answer_step import ANSWER_KEYS, parse_answer_step
from sipprobe.scenario.model import (
    SERVICES,
    STEP_KINDS,
    AccountSpec,
    AnswerStep,
    CallStep,
    CapacityTestStep,
    NatCheckStep,
    OptionsStep,
    RegisterStep,
    Scenario,
    Step,
    TlsSpec,
    WaitStep,
)
from sipprobe.sip.transports import TRANSPORTS
from sipprobe.sip.uri import parse_uri

SRTP_CHOICES = ("off", "optional", "mandatory")

# A scenario is a few dozen lines. These bounds keep a hostile or broken file (a generated
# 20 MB name, thousands of nested lists, a 4,300-digit number, 200,000 keys) a one-line error
# found in well under a second, before PyYAML's recursive composer or Python's int parser
# meets it.
MAX_FILE_BYTES = 256 * 1024
MAX_DEPTH = 16  # mappings and lists inside each other (a scenario needs 5)
MAX_NODES = 10_000  # scalars, mappings and lists in the whole file
MAX_SCALAR_CHARS = 4096  # one value, also after ${VAR} substitution
MAX_NUMBER_CHARS = 32  # digits, sign, point and exponent of a number
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
T = TypeVar("T")


class _Reader:
    """Turns YAML nodes into checked values; every error names file, line and key."""

    def __init__(self, path: str, variables: Mapping[str, str]) -> None:
        self.path = path
        self.variables = variables

    def fail(self, node: yaml.Node | None, key: str, problem: str) -> ScenarioError:
        line = node.start_mark.line + 1 if node is not None else None
        return ScenarioError(self.path, line, key, problem)

    def mapping(
        self, node: yaml.Node, key: str, allowed: tuple[str, ...]
    ) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, key, "expected a mapping of keys to values")
        entries: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key_node, value_node in node.value:
            name = str(key_node.value)
            where = f"{key}.{name}" if key else name
            if name not in allowed:
                raise self.fail(
                    key_node, where, f"unknown key (expected one of: {', '.join(allowed)})"
                )
            if name in entries:
                raise self.fail(key_node, where, "key given twice")
            entries[name] = (key_node, value_node)
        return entries

    def expanded(self, node: yaml.Node, key: str) -> str:
        """A scalar's text with ``${...}`` replaced, bounded in length."""
        if not isinstance(node, yaml.ScalarNode):
            raise self.fail(node, key, "expected a single value")
        text = _VARIABLE.sub(lambda m: self._variable(m, node, key), str(node.value))
        if len(text) > MAX_SCALAR_CHARS:
            raise self.fail(
                node, key, f"value is {len(text)} characters long (at most {MAX_SCALAR_CHARS})"
            )
        return text

    def scalar(self, node: yaml.Node, key: str) -> Any:
        text = self.expanded(node, key)
        if isinstance(node, yaml.ScalarNode) and node.style is not None:  # quoted: text
            return text
        if not text.strip():
            return "" if text != node.value else None
        try:  # plain scalar: typed as YAML types it (also after ${...} substitution)
            value = yaml.safe_load(text)
        except (yaml.YAMLError, ValueError) as exc:
            raise self.fail(node, key, f"cannot read the value {text[:40]!r}") from exc
        numeric = isinstance(value, int | float) and not isinstance(value, bool)
        if numeric and len(text.strip()) > MAX_NUMBER_CHARS:
            raise self.fail(node, key, f"number has more than {MAX_NUMBER_CHARS} characters")
        return value

    def _variable(self, match: re.Match[str], node: yaml.Node, key: str) -> str:
        name, default = match.group(1), match.group(2)
        if name in self.variables:
            return self.variables[name]
        if name in os.environ:
            return os.environ[name]
        if default is not None:
            return default
        raise self.fail(
            node,
            key,
            f"variable ${{{name}}} is not set (use --var {name}=VALUE "
            f"or set it in the environment)",
        )

    def text(self, node: yaml.Node, key: str, numbers: bool = False) -> str:
        """A text value; ``numbers`` also takes a plain number as its digits (a user name
        or a dialled number such as ``1001``), elsewhere a number is a mistake."""
        value = self.scalar(node, key)
        if isinstance(value, str):
            return value
        if numbers and isinstance(value, int) and not isinstance(value, bool):
            return self.expanded(node, key).strip()
        raise self.fail(node, key, f"expected text, got {_yaml_type(value)}")

    def number(self, node: yaml.Node, key: str, low: float, high: float) -> float:
        value = self.scalar(node, key)
        if isinstance(value, str):  # "5" or "${DURATION}" quoted: a number all the same
            try:
                value = float(value)
            except ValueError:
                raise self.fail(node, key, f"expected a number, got {value!r}") from None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(node, key, f"expected a number, got {value!r}")
        if not low <= value <= high:
            raise self.fail(node, key, f"{value} is out of range ({low:g} to {high:g})")
        return float(value)

    def integer(self, node: yaml.Node, key: str, low: int, high: int) -> int:
        value = self.number(node, key, low, high)
        if value != int(value):
            raise self.fail(node, key, f"expected a whole number, got {value}")
        return int(value)

    def boolean(self, node: yaml.Node, key: str) -> bool:
        value = self.scalar(node, key)
        if not isinstance(value, bool):
            raise self.fail(node, key, "expected true or false")
        return value

    def choice(self, node: yaml.Node, key: str, choices: tuple[str, ...]) -> str:
        value = self.text(node, key).lower()
        if value not in choices:
            raise self.fail(node, key, f"{value!r} is not one of: {', '.join(choices)}")
        return value

    def text_list(self, node: yaml.Node, key: str) -> tuple[str, ...]:
        if not isinstance(node, yaml.SequenceNode) or not node.value:
            raise self.fail(node, key, "expected a non-empty list")
        return tuple(self.text(item, f"{key}[{i}]") for i, item in enumerate(node.value))

    def file_path(self, node: yaml.Node, key: str) -> str:
        value = Path(self.text(node, key)).expanduser()
        if not value.is_absolute():
            value = Path(self.path).parent / value
        return str(value)


def _yaml_type(value: object) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int | float):
        return f"a number ({value})"
    return type(value).__name__


def _line(mark: Any) -> int | None:
    return int(mark.line) + 1 if mark is not None else None


def _compose(text: str, path: str) -> yaml.Node | None:
    """YAML nodes of ``text``, after checking size, nesting and node count on the parser's
    event stream (which needs no recursion), so that only a bounded document is composed."""
    size = len(text.encode("utf-8"))
    if size > MAX_FILE_BYTES:
        raise ScenarioError(
            path, None, "", f"the file is {size} bytes; a scenario is at most {MAX_FILE_BYTES}"
        )
    depth = nodes = 0
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise ScenarioError(
                        path,
                        _line(event.start_mark),
                        "",
                        f"lists and mappings are nested more than {MAX_DEPTH} deep",
                    )
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
            if isinstance(event, yaml.NodeEvent):
                nodes += 1
                if nodes > MAX_NODES:
                    raise ScenarioError(
                        path,
                        _line(event.start_mark),
                        "",
                        f"the file has more than {MAX_NODES} values; a scenario needs far fewer",
                    )
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        raise ScenarioError(
            path, mark.line + 1 if mark else None, "", f"invalid YAML: {exc.problem}"
        ) from exc
    except yaml.YAMLError as exc:
        raise ScenarioError(path, None, "", f"invalid YAML: {exc}") from exc


def _optional(
    entries: dict[str, tuple[yaml.Node, yaml.Node]],
    name: str,
    read: Callable[[yaml.Node], T],
    default: T,
) -> T:
    return read(entries[name][1]) if name in entries else default


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
    root = _compose(text, path)
    if root is None:
        raise ScenarioError(path, None, "", "the file is empty")
    reader = _Reader(path, variables)
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
    transport = _optional(
        top, "transport", lambda n: reader.choice(n, "transport", TRANSPORTS), target.transport
    )
    steps, lines = _steps(reader, top["steps"][1])
    account = _optional(top, "account", lambda n: _account(reader, n, target.host), None)
    no_accounts: tuple[tuple[str, AccountSpec], ...] = ()
    accounts = _optional(top, "accounts", lambda n: _accounts(reader, n, target.host), no_accounts)
    if accounts:
        if account is not None:
            raise reader.fail(top["accounts"][0], "accounts", "give account or accounts, not both")
        account = accounts[0][1]
    steps = _resolve_accounts(reader, top["steps"][1], steps, tuple(name for name, _ in accounts))
    service = _optional(
        top, "service", lambda n: reader.choice(n, "service", SERVICES), "sip-trunk"
    )
    locations = tuple(location.value for location in Location)
    return Scenario(
        name=_optional(
            top, "name", lambda n: reader.text(n, "name", numbers=True), Path(path).stem
        ),
        service=service,
        target=target.with_transport(transport),
        transport=transport,
        steps=steps,
        account=account,
        tls=_optional(top, "tls", lambda n: _tls(reader, n), TlsSpec()),
        codecs=_optional(top, "codecs", lambda n: reader.text_list(n, "codecs"), ("PCMU", "PCMA")),
        srtp=_optional(top, "srtp", lambda n: reader.choice(n, "srtp", SRTP_CHOICES), "off"),
        bind=_optional(top, "bind", lambda n: reader.text(n, "bind"), ""),
        sip_port=_optional(top, "sip_port", lambda n: reader.integer(n, "sip_port", 0, 65535), 0),
        media_file=_optional(top, "media_file", lambda n: reader.file_path(n, "media_file"), None),
        thresholds=_optional(top, "thresholds", lambda n: _thresholds(reader, n), Thresholds()),
        source=path,
        step_lines=lines,
        location=Location(
            _optional(
                top,
                "location",
                lambda n: reader.choice(n, "location", locations),
                Location.CUSTOMER_LAN.value,
            )
        ),
        equipment=_optional(top, "equipment", lambda n: _equipment(reader, n, service), None),
        accounts=accounts,
    )


def _equipment(reader: _Reader, node: yaml.Node, service: str) -> Equipment:
    """Who owns the customer's devices; keys not given keep the service's defaults."""
    entries = reader.mapping(node, "equipment", ("phones", "qos_device", "iad", "pbx"))
    default = default_equipment(service)
    choices = {"phones": PHONES, "qos_device": QOS_DEVICES, "iad": IADS, "pbx": PBXES}
    given: dict[str, Any] = {
        name: reader.choice(value, f"equipment.{name}", choices[name])
        for name, (_key, value) in entries.items()
    }
    return replace(default, **given)


def _account(
    reader: _Reader, node: yaml.Node, default_domain: str, key: str = "account"
) -> AccountSpec:
    keys = ("user", "domain", "auth_user", "realm", "password_env", "password_file")
    entries = reader.mapping(node, key, keys)
    if "user" not in entries:
        raise reader.fail(node, f"{key}.user", "required key is missing")
    if "password_env" in entries and "password_file" in entries:
        raise reader.fail(node, key, "give password_env or password_file, not both")
    user = reader.text(entries["user"][1], f"{key}.user", numbers=True)
    return AccountSpec(
        user=user,
        domain=_optional(
            entries, "domain", lambda n: reader.text(n, f"{key}.domain"), default_domain
        ),
        auth_user=_optional(
            entries, "auth_user", lambda n: reader.text(n, f"{key}.auth_user", numbers=True), user
        ),
        realm=_optional(entries, "realm", lambda n: reader.text(n, f"{key}.realm"), "*"),
        password_env=_optional(
            entries, "password_env", lambda n: reader.text(n, f"{key}.password_env"), None
        ),
        password_file=_optional(
            entries, "password_file", lambda n: reader.file_path(n, f"{key}.password_file"), None
        ),
    )


_ACCOUNT_NAME = re.compile(r"[A-Za-z0-9_-]{1,32}")
MAX_ACCOUNTS = 4  # one call per pair of legs: the stack's 4 calls hold two two-leg calls


def _accounts(
    reader: _Reader, node: yaml.Node, default_domain: str
) -> tuple[tuple[str, AccountSpec], ...]:
    """``accounts: {a: {user: ...}, b: {...}}``: named accounts, in file order."""
    if not isinstance(node, yaml.MappingNode) or not node.value:
        raise reader.fail(node, "accounts", "expected a mapping of account names to accounts")
    if len(node.value) > MAX_ACCOUNTS:
        raise reader.fail(node, "accounts", f"at most {MAX_ACCOUNTS} accounts")
    named: dict[str, AccountSpec] = {}
    for key_node, value_node in node.value:
        name = str(key_node.value)
        if not _ACCOUNT_NAME.fullmatch(name):
            raise reader.fail(
                key_node, f"accounts.{name[:40]}", "a name is 1-32 of A-Z a-z 0-9 _ -"
            )
        if name in named:
            raise reader.fail(key_node, f"accounts.{name}", "key given twice")
        named[name] = _account(reader, value_node, default_domain, f"accounts.{name}")
    return tuple(named.items())


def _resolve_accounts(
    reader: _Reader, node: yaml.Node, steps: tuple[Step, ...], names: tuple[str, ...]
) -> tuple[Step, ...]:
    """Every account a step names exists; a call ``to`` a named account is a two-leg call
    (from ``from``, else the first account) that the probe answers on that account."""
    resolved: list[Step] = []
    for index, (step, item) in enumerate(zip(steps, node.value, strict=True)):
        key = f"steps[{index}].{step.kind}"
        used = {
            "account": step.account if isinstance(step, RegisterStep | AnswerStep) else None,
            "from": step.caller if isinstance(step, CallStep) else None,
        }
        for name_key, name in used.items():
            if name is not None and name not in names:
                known = ", ".join(names) if names else "none: add accounts:"
                raise reader.fail(item, f"{key}.{name_key}", f"no account {name!r} ({known})")
        if isinstance(step, CallStep) and step.to in names:
            caller = step.caller or names[0]
            if step.to == caller:
                raise reader.fail(item, f"{key}.to", "a two-leg call goes to another account")
            if step.parallel != 1:
                raise reader.fail(item, f"{key}.parallel", "a two-leg call is one call")
            resolved.append(replace(step, caller=caller, callee=step.to))
        else:
            resolved.append(step)
    return tuple(resolved)


def _tls(reader: _Reader, node: yaml.Node) -> TlsSpec:
    entries = reader.mapping(node, "tls", ("verify", "ca_file"))
    return TlsSpec(
        verify=_optional(entries, "verify", lambda n: reader.boolean(n, "tls.verify"), True),
        ca_file=_optional(entries, "ca_file", lambda n: reader.file_path(n, "tls.ca_file"), None),
    )


def _thresholds(reader: _Reader, node: yaml.Node) -> Thresholds:
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


def _steps(reader: _Reader, node: yaml.Node) -> tuple[tuple[Step, ...], tuple[int | None, ...]]:
    if not isinstance(node, yaml.SequenceNode) or not node.value:
        raise reader.fail(node, "steps", "expected a non-empty list of steps")
    steps: list[Step] = []
    lines: list[int | None] = []
    for index, item in enumerate(node.value):
        key = f"steps[{index}]"
        if isinstance(item, yaml.ScalarNode):  # "- options": the step with its defaults
            kind, body = str(item.value), None
        elif isinstance(item, yaml.MappingNode) and len(item.value) == 1:
            kind, body = str(item.value[0][0].value), item.value[0][1]
        else:
            raise reader.fail(item, key, "a step is one key, e.g. '- call: {to: echo}'")
        if kind not in STEP_KINDS:
            raise reader.fail(
                item, key, f"unknown step {kind!r} (expected one of: {', '.join(STEP_KINDS)})"
            )
        steps.append(_step(reader, kind, body, f"{key}.{kind}"))
        lines.append(item.start_mark.line + 1)
    return tuple(steps), tuple(lines)


def _dscp(reader: _Reader, node: yaml.Node, key: str) -> int | None:
    """``expect_dscp``: a DSCP value 0-63, or null/none when the far end's marking is not known."""
    if isinstance(node, yaml.ScalarNode) and str(node.value).lower() in ("null", "none", "~"):
        return None
    return reader.integer(node, f"{key}.expect_dscp", 0, 63)


def _step(reader: _Reader, kind: str, body: yaml.Node | None, key: str) -> Step:
    if body is not None and isinstance(body, yaml.ScalarNode) and body.value in ("", "~", "null"):
        body = None
    if kind == "wait" and isinstance(body, yaml.ScalarNode):
        return WaitStep(seconds=reader.number(body, key, 0, 3600))
    fields: dict[str, tuple[yaml.Node, yaml.Node]] = {}
    allowed = {
        "options": ("timeout_s", "uri"),
        "register": ("expires_s", "timeout_s", "account"),
        "call": (
            *("to", "duration_s", "answer_timeout_s", "expect", "expect_dscp", "parallel"),
            *("from", "dtmf", "dtmf_method", "hold_s", "hold_mode"),
            *("session_expires_s", "session_timer"),
        ),
        "wait": ("seconds",),
        "answer": ANSWER_KEYS,
        "capacity": ("to", "channels", "step", "hold_s", "answer_timeout_s"),
        "nat_check": (
            "transports",
            "timeout_s",
            "binding_intervals_s",
            "binding_max_s",
            "keepalive_s",
        ),
    }[kind]
    if body is not None:
        fields = reader.mapping(body, key, allowed)

    def num(name: str, low: float, high: float, default: float) -> float:
        return _optional(
            fields, name, lambda n: reader.number(n, f"{key}.{name}", low, high), default
        )

    if kind == "options":
        uri = None
        if "uri" in fields:
            uri_node = fields["uri"][1]
            try:
                uri = parse_uri(reader.text(uri_node, f"{key}.uri"))
            except UsageError as exc:
                raise reader.fail(uri_node, f"{key}.uri", str(exc)) from exc
        return OptionsStep(timeout_s=num("timeout_s", 0.1, 120, 5.0), uri=uri)
    if kind == "register":
        expires = _optional(
            fields, "expires_s", lambda n: reader.integer(n, f"{key}.expires_s", 1, 86400), 300
        )
        return RegisterStep(
            expires_s=expires,
            timeout_s=num("timeout_s", 0.1, 120, 10.0),
            account=_optional(fields, "account", lambda n: reader.text(n, f"{key}.account"), None),
        )
    if kind == "call":
        expect = _optional(
            fields, "expect", lambda n: reader.integer(n, f"{key}.expect", 200, 699), 200
        )
        dtmf, dtmf_method = _dtmf(reader, fields, key)
        parallel = _optional(
            fields,
            "parallel",
            lambda n: reader.integer(n, f"{key}.parallel", 1, MAX_PARALLEL_CALLS),
            1,
        )
        duration_s = num("duration_s", 0, 86400, 5.0)
        hold_s = num("hold_s", 0, 3600, 0.0)
        problem = hold_duration_problem(hold_s, duration_s, dtmf) if hold_s > 0 else None
        if problem:
            raise reader.fail(fields["hold_s"][1], f"{key}.hold_s", problem)
        for one_process in ("session_expires_s", "session_timer"):
            if one_process in fields and parallel > MAX_CALLS:
                raise reader.fail(
                    fields[one_process][1],
                    f"{key}.{one_process}",
                    f"applies to calls of one process: parallel up to {MAX_CALLS}, not {parallel}",
                )
        return CallStep(
            to=_optional(fields, "to", lambda n: reader.text(n, f"{key}.to", numbers=True), "echo"),
            duration_s=duration_s,
            answer_timeout_s=num("answer_timeout_s", 0.1, 600, 30.0),
            expect_status=expect,
            parallel=parallel,
            expect_dscp=_dscp(reader, fields["expect_dscp"][1], key)
            if "expect_dscp" in fields
            else None,
            caller=_optional(fields, "from", lambda n: reader.text(n, f"{key}.from"), None),
            dtmf=dtmf,
            dtmf_method=dtmf_method,
            hold_s=hold_s,
            hold_mode=cast(
                HoldMode,
                _optional(
                    fields,
                    "hold_mode",
                    lambda n: reader.choice(n, f"{key}.hold_mode", HOLD_MODES),
                    "sendonly",
                ),
            ),
            session_expires_s=_optional(
                fields,
                "session_expires_s",
                lambda n: reader.integer(n, f"{key}.session_expires_s", MIN_SE_S, 86400),
                None,
            ),
            session_timer=cast(
                TimerUse,
                _optional(
                    fields,
                    "session_timer",
                    lambda n: reader.choice(n, f"{key}.session_timer", TIMER_USES),
                    "optional",
                ),
            ),
        )
    if kind == "nat_check":
        return _nat_check(reader, fields, key)
    if kind == "answer":
        return parse_answer_step(reader, fields, key)
    if kind == "capacity":
        return _capacity(reader, fields, key)
    return WaitStep(seconds=num("seconds", 0, 3600, 1.0))


def _dtmf(
    reader: _Reader, fields: dict[str, tuple[yaml.Node, yaml.Node]], key: str
) -> tuple[str, DtmfMethod]:
    dtmf = _optional(fields, "dtmf", lambda n: reader.text(n, f"{key}.dtmf", numbers=True), "")
    if "dtmf" in fields:
        problem = dtmf_problem(dtmf)
        if problem:
            raise reader.fail(fields["dtmf"][1], f"{key}.dtmf", problem)
    method = _optional(
        fields,
        "dtmf_method",
        lambda n: reader.choice(n, f"{key}.dtmf_method", DTMF_METHODS),
        "rfc4733",
    )
    return dtmf, method  # type: ignore[return-value]


def _capacity(
    reader: _Reader, fields: dict[str, tuple[yaml.Node, yaml.Node]], key: str
) -> CapacityTestStep:
    if "channels" not in fields:
        raise reader.fail(None, f"{key}.channels", "the channels the customer bought are needed")
    channels = reader.integer(fields["channels"][1], f"{key}.channels", 1, MAX_PARALLEL_CALLS)
    step = _optional(fields, "step", lambda n: reader.integer(n, f"{key}.step", 1, channels), 1)
    return CapacityTestStep(
        channels=channels,
        to=_optional(fields, "to", lambda n: reader.text(n, f"{key}.to", numbers=True), "echo"),
        step=step,
        hold_s=_optional(
            fields, "hold_s", lambda n: reader.number(n, f"{key}.hold_s", 1, 3600), 10.0
        ),
        answer_timeout_s=_optional(
            fields,
            "answer_timeout_s",
            lambda n: reader.number(n, f"{key}.answer_timeout_s", 0.1, 600),
            30.0,
        ),
    )


def _nat_check(
    reader: _Reader, fields: dict[str, tuple[yaml.Node, yaml.Node]], key: str
) -> NatCheckStep:
    default = NatCheckStep()
    transports = default.transports
    if "transports" in fields:
        node = fields["transports"][1]
        transports = reader.text_list(node, f"{key}.transports")
        for name in transports:
            if name not in ("udp", "tcp"):
                raise reader.fail(node, f"{key}.transports", f"{name!r} is not one of: udp, tcp")
    intervals = default.binding_intervals_s
    if "binding_intervals_s" in fields:
        node = fields["binding_intervals_s"][1]
        if not isinstance(node, yaml.SequenceNode) or not node.value:
            raise reader.fail(node, f"{key}.binding_intervals_s", "expected a non-empty list")
        intervals = tuple(
            reader.number(item, f"{key}.binding_intervals_s[{i}]", 0.1, 3600)
            for i, item in enumerate(node.value)
        )
    return NatCheckStep(
        transports=transports,
        timeout_s=_optional(
            fields, "timeout_s", lambda n: reader.number(n, f"{key}.timeout_s", 0.1, 120), 5.0
        ),
        binding_intervals_s=intervals,
        binding_max_s=_optional(
            fields,
            "binding_max_s",
            lambda n: reader.number(n, f"{key}.binding_max_s", 0, 3600),
            default.binding_max_s,
        ),
        keepalive_s=_optional(
            fields, "keepalive_s", lambda n: reader.number(n, f"{key}.keepalive_s", 1, 86400), None
        ),
    )
