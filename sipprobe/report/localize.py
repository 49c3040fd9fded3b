"""``sipprobe localize`` in and out: report JSON read back, the result as text or JSON.

``read_vantage`` reads a report through the one JSON reader (``report.json_read``) and keeps
what localize needs, after checking the service and equipment against their choices.
"""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path
from typing import Any

from sipprobe.errors import UsageError
from sipprobe.history.figures import unix_time
from sipprobe.model.demarc import (
    IADS,
    PBXES,
    PHONES,
    QOS_DEVICES,
    Equipment,
    default_equipment,
)
from sipprobe.report.json_read import read_report
from sipprobe.report.text import printable
from sipprobe.verdict.localize import Localization, Vantage
from sipprobe.verdict.support_policy import SEGMENTS_BY_SERVICE

_EQUIPMENT_KEYS = tuple(f.name for f in fields(Equipment))


def _report_file(path: str) -> Path:
    given = Path(path)
    return given / "report.json" if given.is_dir() else given


def read_vantage(path: str) -> Vantage:
    """The run in a report.json file, or in a bundle folder holding one; ``UsageError`` in
    one line when it cannot be read or is not a sipprobe report with a location."""
    file = _report_file(path)
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"cannot read {file}: {exc.strerror or exc}") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"{file} is not a JSON report: {exc}") from exc
    try:
        return _vantage(path, data)
    except (KeyError, TypeError, ValueError) as exc:
        raise UsageError(
            f"{file} is not a sipprobe report localize can use ({type(exc).__name__}: {exc})"
        ) from exc


def _one_of(value: Any, key: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ValueError(f"{key} is {value!r}, not one of: {', '.join(choices)}")
    return str(value)


def _equipment(data: dict[str, Any], service: str) -> Equipment:
    given = data.get("equipment")
    if not given:
        return default_equipment(service)
    choices = {"phones": PHONES, "pbx": PBXES, "qos_device": QOS_DEVICES, "iad": IADS}
    values: dict[str, Any] = {
        key: _one_of(given[key], f"equipment.{key}", choices[key]) for key in _EQUIPMENT_KEYS
    }
    return Equipment(**values)


def _vantage(path: str, data: dict[str, Any]) -> Vantage:
    if "location" not in data:
        raise ValueError("no location: it was written before sipprobe recorded one; run again")
    report = read_report(data)
    service = _one_of(report.service, "service", tuple(SEGMENTS_BY_SERVICE))
    return Vantage(
        path=path,
        target=report.target,
        service=service,
        equipment=_equipment(data, service),
        location=report.location,
        started_at=report.started_at,
        started_unix=unix_time(report.started_at),
        messaging=report.verdict.messaging,
        media=report.verdict.media,
        exit_code=int(report.verdict.exit_code),
        findings=report.verdict.findings,
    )


def localization_to_json(result: Localization) -> dict[str, Any]:
    """The JSON contract of ``sipprobe localize --format json``."""
    return {
        "segment": result.segment,
        "responsible": result.responsible,
        "summary": result.summary,
        "reasons": list(result.reasons),
        "reports": [
            {
                "path": run.path,
                "location": run.location.value,
                "started_at": run.started_at,
                "messaging": run.messaging.value,
                "media": run.media.value,
                "exit_code": run.exit_code,
            }
            for run in result.runs
        ],
    }


def render_localization_json(result: Localization) -> str:
    return json.dumps(localization_to_json(result), indent=2) + "\n"


def render_localization_text(result: Localization) -> str:
    target = result.runs[0].target
    lines = [
        f"sipprobe localize {target}: segment {result.segment}, responsible {result.responsible}",
        f"  {result.summary}",
        "reasons:",
        *(f"  - {reason}" for reason in result.reasons),
        "reports:",
        *(
            f"  {run.location.value:<12}  {run.started_at}  messaging {run.messaging.value:<8}"
            f"  media {run.media.value:<8}  exit {run.exit_code}  {run.path}"
            for run in result.runs
        ),
        f"exit {int(result.exit_code)} ({result.exit_code.name})",
    ]
    return printable("\n".join(lines)) + "\n"
