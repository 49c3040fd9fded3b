"""report.html of a real run, opened in headless Chromium: it renders and fetches nothing."""

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
from matplotlib.image import imread

from lab.browser import render_page
from lab.probe import run_sipprobe
from lab.responder import Responder
from sipprobe.report.html import render_html
from sipprobe.report.json_read import load_report

TWO_LEG = Path(__file__).parents[1] / "data" / "two-leg" / "relayed" / "report.json"

GOOD_GREEN = np.array([0x2E, 0x7D, 0x32]) / 255  # the banner of a good verdict
FETCHING = re.compile(r"""\b(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)


def test_report_html_renders_offline_with_the_verdict_banner(
    responder_factory: Callable[..., Responder], tmp_path: Path
) -> None:
    far_end = responder_factory(ring_ms=200)
    out = tmp_path / "evidence"
    result = run_sipprobe("call", far_end.uri(), "--duration", "2", "--out", str(out), "-q")
    assert result.returncode == 0, result.stdout + result.stderr
    page = out / "report.html"
    html = page.read_text()
    assert FETCHING.search(html) is None
    assert "signalling and media were good at the demarc" in html

    rendering = render_page(page, tmp_path / "chromium", height=2600)
    assert rendering.requests == ()
    pixels = imread(rendering.screenshot)[..., :3]
    assert pixels.shape[:2] == (2600, 1280)
    banner = pixels[5:60, 5:1275]
    assert (np.abs(banner - GOOD_GREEN).max(axis=-1) < 0.02).mean() > 0.6  # green, with text
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 50  # a page, not a blank sheet


def test_report_html_of_a_relayed_two_leg_call_renders_offline(tmp_path: Path) -> None:
    """The both-legs table of a recorded call through Kamailio and rtpengine, in Chromium."""
    page = tmp_path / "report.html"
    html = render_html(load_report(TWO_LEG))
    page.write_text(html)
    assert FETCHING.search(html) is None
    assert '<table class="legs">' in html and "Media relayed by the platform" in html
    rendering = render_page(page, tmp_path / "chromium", height=2600)
    assert rendering.requests == ()
    pixels = imread(rendering.screenshot)[..., :3]
    banner = pixels[5:60, 5:1275]
    assert (np.abs(banner - GOOD_GREEN).max(axis=-1) < 0.02).mean() > 0.6


def test_browser_netlog_sees_a_page_that_fetches(tmp_path: Path) -> None:
    """The request check above is not blind: a page that fetches is caught, and fails."""
    page = tmp_path / "fetching.html"
    page.write_text(
        '<!DOCTYPE html><html><body><img src="http://report-assets.invalid/logo.png"></body></html>'
    )
    rendering = render_page(page, tmp_path / "chromium", width=400, height=300)
    urls = {request.url: request.net_error for request in rendering.requests}
    assert urls == {"http://report-assets.invalid/logo.png": -105}  # ERR_NAME_NOT_RESOLVED
