"""Scenario keys location: and equipment:, with the service's defaults and file:line errors."""

from __future__ import annotations

import pytest

from sipprobe.errors import ScenarioError
from sipprobe.model.demarc import Equipment, Location
from sipprobe.scenario.loader import parse_scenario

BASE = "name: t\nservice: {service}\ntarget: sip:pbx:5060\n{extra}steps:\n  - options\n"


def scenario(extra: str = "", service: str = "sip-trunk") -> str:
    return BASE.format(service=service, extra=extra)


def test_scenario_location_defaults_to_the_customer_lan() -> None:
    loaded = parse_scenario(scenario(), "t.yaml", {})
    assert loaded.location is Location.CUSTOMER_LAN
    assert loaded.equipment is None


@pytest.mark.parametrize("location", [loc.value for loc in Location])
def test_scenario_location_each_value(location: str) -> None:
    loaded = parse_scenario(scenario(f"location: {location}\n"), "t.yaml", {})
    assert loaded.location is Location(location)


@pytest.mark.parametrize(
    ("service", "equipment"),
    [
        ("hosted-pbx", Equipment(phones="cleartrunk", pbx="none")),
        ("sip-trunk", Equipment(phones="customer", pbx="customer")),
        ("internet", Equipment(phones="customer", pbx="customer")),
    ],
)
def test_scenario_equipment_in_effect_defaults_per_service(
    service: str, equipment: Equipment
) -> None:
    assert parse_scenario(scenario(service=service), "t.yaml", {}).equipment_in_effect == equipment


def test_scenario_equipment_given_keys_override_the_service_defaults() -> None:
    text = scenario(
        "equipment:\n  qos_device: rented\n  iad: cleartrunk-configured\n", "hosted-pbx"
    )
    loaded = parse_scenario(text, "t.yaml", {})
    assert loaded.equipment == Equipment(
        phones="cleartrunk", pbx="none", qos_device="rented", iad="cleartrunk-configured"
    )
    assert loaded.equipment_in_effect == loaded.equipment


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            "location: office\n",
            "t.yaml:4: location: 'office' is not one of: customer-lan, customer-wan, internet, "
            "platform",
        ),
        (
            "equipment:\n  qos_device: leased\n",
            "t.yaml:5: equipment.qos_device: 'leased' is not one of: none, rented, "
            "sold-monitored, sold",
        ),
        (
            "equipment:\n  phones: cleartrunk\n  router: customer\n",
            "t.yaml:6: equipment.router: unknown key (expected one of: phones, qos_device, iad, "
            "pbx)",
        ),
        ("equipment: rented\n", "t.yaml:4: equipment: expected a mapping of keys to values"),
        (
            "equipment:\n  pbx: cleartrunk\n",
            "t.yaml:5: equipment.pbx: 'cleartrunk' is not one of: customer, none",
        ),
    ],
)
def test_scenario_demarc_errors_name_file_line_and_key(extra: str, message: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(scenario(extra), "t.yaml", {})
    assert str(caught.value) == message
