"""Headless Chromium (Debian `chromium`) as a reader of the HTML report.

Chromium runs with a fresh profile, no background services, and a host resolver that maps
every name to "not found", so nothing can leave the machine even if a page asked for it. Its
NetLog records every request anyway: the ones made on behalf of the page (network isolation
key of the file:// page) are what a report must never make. Chromium's own background
requests (update checks and the like, which the flags do not all silence) have other keys.
"""

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lab.environment import require_lab

TIMEOUT_S = 90
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--no-first-run",
    "--no-default-browser-check",
    "--host-resolver-rules=MAP * ~NOTFOUND",
)


@dataclass(frozen=True, slots=True)
class PageRequest:
    url: str
    net_error: int | None  # e.g. -105 ERR_NAME_NOT_RESOLVED


@dataclass(frozen=True, slots=True)
class Rendering:
    screenshot: Path
    requests: tuple[PageRequest, ...]  # requests made for the page itself


def _page_requests(netlog: dict[str, Any]) -> tuple[PageRequest, ...]:
    start = netlog["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    urls: dict[int, str] = {}
    errors: dict[int, int] = {}
    for event in netlog["events"]:
        if event["type"] != start:
            continue
        source, params = event["source"]["id"], event.get("params") or {}
        if "url" in params and "file://" in params.get("network_isolation_key", ""):
            urls[source] = params["url"]
        elif "net_error" in params:
            errors[source] = params["net_error"]
    return tuple(PageRequest(url, errors.get(source)) for source, url in urls.items())


def render_page(page: Path, workdir: Path, width: int = 1280, height: int = 2000) -> Rendering:
    """Open ``page`` in headless Chromium; a screenshot and the requests the page made."""
    require_lab("chromium")
    workdir.mkdir(parents=True, exist_ok=True)
    screenshot, netlog = workdir / "screenshot.png", workdir / "netlog.json"
    result = subprocess.run(
        [
            "chromium",
            *FLAGS,
            f"--user-data-dir={workdir / 'profile'}",
            f"--log-net-log={netlog}",
            f"--screenshot={screenshot}",
            f"--window-size={width},{height}",
            page.resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert screenshot.is_file(), result.stderr[-2000:]
    return Rendering(screenshot, _page_requests(json.loads(netlog.read_text())))
