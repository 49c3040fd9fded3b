"""The exporter's YAML config: limits, where evidence is kept, the allow-list, modules.

    listen: 127.0.0.1:9166          # --listen wins
    external_url: http://probe1.example.com:9166   # for report links (default: from listen)
    concurrency: 2                  # probes running at once (child processes)
    queue: 8                        # probes waiting for a slot; beyond: HTTP 503
    keep_runs: 5                    # evidence bundles kept per target
    runs_dir: /var/lib/sipprobe-exporter/runs
    allow: [192.0.2.0/24, "2001:db8::/32", sbc.example.com, "*.trunks.example.com"]
    modules:
      trunk:
        scenario: /etc/sipprobe/trunk.yaml   # ${TARGET} is the probed URI
        vars: {CUSTOMER: acme}               # more ${NAME} values
        timeout_s: 40                        # at most this long, whatever the scrape allows

Passwords are the scenario's business (``password_env``, ``password_file``): the child
inherits the exporter's environment (systemd ``EnvironmentFile=``), and nothing in a probe's
URL can name one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sipprobe.errors import UsageError
from sipprobe.exporter.allow import AllowList
from sipprobe.model.endpoint import Endpoint

DEFAULT_LISTEN = "127.0.0.1:9166"
DEFAULT_RUNS_DIR = Path("sipprobe-exporter-runs")
BUILTIN_MODULES = ("options", "call")


@dataclass(frozen=True, slots=True)
class Module:
    """How to probe a target: a built-in (``options``, ``call``) or a scenario template."""

    name: str
    scenario: Path | None = None  # None: the built-in module of that name
    variables: tuple[tuple[str, str], ...] = ()
    timeout_s: float | None = None


@dataclass(frozen=True, slots=True)
class ExporterConfig:
    listen: Endpoint = field(default_factory=lambda: parse_listen(DEFAULT_LISTEN, "listen"))
    external_url: str | None = None
    concurrency: int = 2
    queue: int = 8
    keep_runs: int = 5
    runs_dir: Path = DEFAULT_RUNS_DIR
    allow: AllowList | None = None  # None: any target (fine on loopback only)
    modules: Mapping[str, Module] = field(
        default_factory=lambda: {name: Module(name) for name in BUILTIN_MODULES}
    )

    def base_url(self) -> str:
        if self.external_url:
            return self.external_url.rstrip("/")
        return f"http://{self.listen}"


def parse_listen(text: str, where: str) -> Endpoint:
    """``HOST:PORT`` (``[v6]:PORT``) to listen on; a port is required."""
    try:
        endpoint = Endpoint.parse(text)
    except ValueError as exc:
        raise UsageError(f"{where}: {exc}") from exc
    if endpoint.port is None:
        raise UsageError(f"{where}: {text!r} needs a port (HOST:PORT)")
    return endpoint


def _int(data: Mapping[str, Any], key: str, default: int, least: int, where: str) -> int:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise UsageError(f"{where}: {key}: expected a whole number >= {least}, got {value!r}")
    return value


def _module(name: str, body: Any, where: str) -> Module:
    if not isinstance(body, dict):
        raise UsageError(f"{where}: modules.{name}: expected a mapping with scenario:")
    unknown = set(body) - {"scenario", "vars", "timeout_s"}
    if unknown:
        raise UsageError(f"{where}: modules.{name}: unknown keys {sorted(unknown)}")
    scenario = body.get("scenario")
    if not isinstance(scenario, str):
        raise UsageError(f"{where}: modules.{name}.scenario: expected a file path")
    variables = body.get("vars", {})
    if not isinstance(variables, dict) or not all(isinstance(k, str) for k in variables):
        raise UsageError(f"{where}: modules.{name}.vars: expected a mapping of names to values")
    if "TARGET" in variables:
        raise UsageError(f"{where}: modules.{name}.vars: TARGET is the probed URI, not a var")
    timeout = body.get("timeout_s")
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0
    ):
        raise UsageError(f"{where}: modules.{name}.timeout_s: expected seconds > 0")
    path = Path(scenario)
    if not path.is_absolute():
        path = Path(where).parent / path
    return Module(
        name,
        path,
        tuple((str(k), str(v)) for k, v in variables.items()),
        None if timeout is None else float(timeout),
    )


def parse_config(text: str, where: str) -> ExporterConfig:
    """The config in ``text`` (read from ``where``, named in errors)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise UsageError(f"{where}: not valid YAML: {exc}") from exc
    data = {} if data is None else data
    if not isinstance(data, dict):
        raise UsageError(f"{where}: expected a mapping at the top")
    known = {"listen", "external_url", "concurrency", "queue", "keep_runs", "runs_dir"}
    unknown = set(data) - known - {"allow", "modules"}
    if unknown:
        raise UsageError(f"{where}: unknown keys {sorted(unknown)}")
    allow = None
    if "allow" in data:
        entries = data["allow"]
        if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
            raise UsageError(f"{where}: allow: expected a list of networks and host names")
        try:
            allow = AllowList.parse(entries)
        except ValueError as exc:
            raise UsageError(f"{where}: allow: {exc}") from exc
    modules = {name: Module(name) for name in BUILTIN_MODULES}
    declared = data.get("modules", {}) or {}
    if not isinstance(declared, dict):
        raise UsageError(f"{where}: modules: expected a mapping of module names")
    for name, body in declared.items():
        if not isinstance(name, str) or name in BUILTIN_MODULES:
            raise UsageError(f"{where}: modules.{name}: the name is taken by a built-in module")
        modules[name] = _module(name, body, where)
    return ExporterConfig(
        listen=parse_listen(str(data.get("listen", DEFAULT_LISTEN)), f"{where}: listen"),
        external_url=data.get("external_url"),
        concurrency=_int(data, "concurrency", 2, 1, where),
        queue=_int(data, "queue", 8, 0, where),
        keep_runs=_int(data, "keep_runs", 5, 1, where),
        runs_dir=Path(data.get("runs_dir", DEFAULT_RUNS_DIR)),
        allow=allow,
        modules=modules,
    )


def load_config(path: str | None) -> ExporterConfig:
    if path is None:
        return ExporterConfig()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read exporter config {path}: {exc.strerror or exc}") from exc
    return parse_config(text, path)
