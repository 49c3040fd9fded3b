"""contrib/prometheus: the alert rules pass ``promtool check rules`` and their unit tests
(``promtool test rules``), the scrape config passes ``promtool check config``, and the
Alertmanager example routes every ``responsible`` value the rules give."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml
from lab.environment import require_lab

CONTRIB = Path(__file__).resolve().parents[2] / "contrib" / "prometheus"


def _promtool(*args: str) -> str:
    done = subprocess.run(
        ["promtool", *args], cwd=CONTRIB, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_contrib_prometheus_rules_check_and_unit_tests_pass() -> None:
    require_lab("promtool")
    assert "SUCCESS: 6 rules found" in _promtool("check", "rules", "sipprobe-rules.yml")
    assert "SUCCESS" in _promtool("test", "rules", "sipprobe-rules_test.yml")


def test_contrib_prometheus_scrape_config_is_valid() -> None:
    require_lab("promtool")
    assert "is valid prometheus config file syntax" in _promtool(
        "check", "config", "prometheus.yml"
    )


def test_contrib_prometheus_alertmanager_routes_every_responsible_party() -> None:
    routes = yaml.safe_load((CONTRIB / "alertmanager.yml").read_text())
    receivers = {r["name"] for r in routes["receivers"]}
    used = {routes["route"]["receiver"]} | {r["receiver"] for r in routes["route"]["routes"]}
    assert used <= receivers
    matchers = " ".join(m for r in routes["route"]["routes"] for m in r["matchers"])
    rules = yaml.safe_load((CONTRIB / "sipprobe-rules.yml").read_text())
    parties = {rule["labels"]["responsible"] for rule in rules["groups"][0]["rules"]}
    assert parties == {"cleartrunk", "customer", "undetermined"}
    # undetermined goes to the default receiver; the others have their own routes.
    assert 'responsible="cleartrunk"' in matchers
    assert 'responsible="customer"' in matchers
