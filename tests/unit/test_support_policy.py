"""The support policy table: who must fix a finding, by side, service, equipment and subject."""

from __future__ import annotations

from pathlib import Path

import pytest

from sipprobe.model.demarc import Equipment, Responsible, default_equipment
from sipprobe.model.outcome import Side
from sipprobe.verdict.support_policy import (
    CLAUSES,
    SEGMENTS,
    SEGMENTS_BY_SERVICE,
    Subject,
    calling_device,
    responsible_for,
)

CT, CU, UN = Responsible.CLEARTRUNK, Responsible.CUSTOMER, Responsible.UNDETERMINED
HOSTED = default_equipment("hosted-pbx")
TRUNK = default_equipment("sip-trunk")
DOCS = Path(__file__).resolve().parents[2] / "docs" / "demarc-policy.md"


def test_support_policy_default_equipment_per_service() -> None:
    assert Equipment(phones="cleartrunk", pbx="none", qos_device="none", iad="none") == HOSTED
    assert Equipment(phones="customer", pbx="customer", qos_device="none", iad="none") == TRUNK
    assert default_equipment("internet") == TRUNK


def test_support_policy_every_service_covers_every_segment_with_a_known_clause() -> None:
    for service, table in SEGMENTS_BY_SERVICE.items():
        assert tuple(table) == SEGMENTS, service
        assert set(table.values()) <= set(CLAUSES), service


def test_support_policy_clause_ids_match_their_keys_and_have_sentences() -> None:
    for key, clause in CLAUSES.items():
        assert clause.id == key
        assert clause.sentence.endswith(".") and len(clause.sentence) > 40


def test_support_policy_docs_name_every_clause() -> None:
    text = DOCS.read_text(encoding="utf-8")
    missing = [key for key in CLAUSES if f"`{key}`" not in text]
    assert missing == []


CELLS: list[tuple[Side, str, Equipment, Subject | None, Responsible, str]] = [
    # platform: ClearTrunk, whatever the equipment or subject
    (Side.PLATFORM, "hosted-pbx", HOSTED, None, CT, "hosted-pbx.platform"),
    (Side.PLATFORM, "sip-trunk", TRUNK, "codec", CT, "sip-trunk.platform"),
    (Side.PLATFORM, "internet", TRUNK, None, CT, "internet.platform"),
    # unknown: nobody
    (Side.UNKNOWN, "hosted-pbx", HOSTED, None, UN, "undetermined"),
    (Side.UNKNOWN, "sip-trunk", TRUNK, "qos", UN, "undetermined"),
    # customer network: router, LAN, internet access are the customer's
    (Side.CUSTOMER_NETWORK, "hosted-pbx", HOSTED, "nat", CU, "customer-network"),
    (Side.CUSTOMER_NETWORK, "sip-trunk", TRUNK, None, CU, "customer-network"),
    (Side.CUSTOMER_NETWORK, "internet", TRUNK, None, CU, "internet.smartjack"),
    # the same codec failure: the phone on a hosted PBX, the customer's PBX on a SIP trunk
    (Side.CUSTOMER_EQUIPMENT, "hosted-pbx", HOSTED, "codec", CT, "hosted-pbx.phones"),
    (Side.CUSTOMER_EQUIPMENT, "sip-trunk", TRUNK, "codec", CU, "sip-trunk.pbx-configuration"),
    (Side.CUSTOMER_EQUIPMENT, "hosted-pbx", HOSTED, "credentials", CT, "hosted-pbx.phones"),
    (
        Side.CUSTOMER_EQUIPMENT,
        "sip-trunk",
        TRUNK,
        "credentials",
        CU,
        "sip-trunk.pbx-configuration",
    ),
    (Side.CUSTOMER_EQUIPMENT, "hosted-pbx", HOSTED, None, CT, "hosted-pbx.phones"),
    (Side.CUSTOMER_EQUIPMENT, "hosted-pbx", HOSTED, "nat", CT, "hosted-pbx.phones"),
    # phones the customer bought elsewhere are the customer's, on a hosted PBX too
    (
        Side.CUSTOMER_EQUIPMENT,
        "hosted-pbx",
        Equipment(phones="customer", pbx="none"),
        "codec",
        CU,
        "customer-equipment",
    ),
    (Side.CUSTOMER_EQUIPMENT, "hosted-pbx", HOSTED, "phone", CT, "hosted-pbx.phones"),
    (Side.CUSTOMER_EQUIPMENT, "sip-trunk", TRUNK, "phone", CU, "customer-equipment"),
    (
        Side.CUSTOMER_EQUIPMENT,
        "sip-trunk",
        Equipment(phones="cleartrunk", pbx="customer"),
        "phone",
        CT,
        "sip-trunk.phones",
    ),
    (Side.CUSTOMER_EQUIPMENT, "sip-trunk", TRUNK, "pbx", CU, "sip-trunk.pbx-configuration"),
    (
        Side.CUSTOMER_EQUIPMENT,
        "hosted-pbx",
        Equipment(phones="cleartrunk", pbx="customer"),
        "pbx",
        CU,
        "customer-equipment",
    ),
    # the QoS device: rented or sold-and-monitored is ClearTrunk's, sold alone the customer's
    (
        Side.CUSTOMER_EQUIPMENT,
        "hosted-pbx",
        Equipment(phones="cleartrunk", pbx="none", qos_device="rented"),
        "qos",
        CT,
        "qos-device.rented",
    ),
    (
        Side.CUSTOMER_EQUIPMENT,
        "sip-trunk",
        Equipment(phones="customer", pbx="customer", qos_device="sold-monitored"),
        "qos",
        CT,
        "qos-device.sold-monitored",
    ),
    (
        Side.CUSTOMER_EQUIPMENT,
        "hosted-pbx",
        Equipment(phones="cleartrunk", pbx="none", qos_device="sold"),
        "qos",
        CU,
        "qos-device.sold",
    ),
    (Side.CUSTOMER_EQUIPMENT, "hosted-pbx", HOSTED, "qos", CU, "customer-equipment"),
    # QoS marking changed on the customer network: a managed device makes it undetermined
    (
        Side.CUSTOMER_NETWORK,
        "hosted-pbx",
        Equipment(phones="cleartrunk", pbx="none", qos_device="rented"),
        "qos",
        UN,
        "qos-device",
    ),
    (
        Side.CUSTOMER_NETWORK,
        "sip-trunk",
        Equipment(phones="customer", pbx="customer", qos_device="sold-monitored"),
        "qos",
        UN,
        "qos-device",
    ),
    (
        Side.CUSTOMER_NETWORK,
        "sip-trunk",
        Equipment(phones="customer", pbx="customer", qos_device="sold"),
        "qos",
        CU,
        "customer-network",
    ),
    (Side.CUSTOMER_NETWORK, "sip-trunk", TRUNK, "qos", CU, "customer-network"),
    # an IAD ClearTrunk configured: the configuration is the customer's after acceptance
    (
        Side.CUSTOMER_EQUIPMENT,
        "sip-trunk",
        Equipment(phones="customer", pbx="customer", iad="cleartrunk-configured"),
        "iad",
        CU,
        "iad-configuration",
    ),
    (
        Side.CUSTOMER_EQUIPMENT,
        "sip-trunk",
        Equipment(phones="customer", pbx="none", iad="cleartrunk-configured"),
        "credentials",
        CU,
        "iad-configuration",
    ),
    (
        Side.CUSTOMER_EQUIPMENT,
        "sip-trunk",
        Equipment(phones="customer", pbx="none", iad="customer"),
        "codec",
        CU,
        "customer-equipment",
    ),
    # internet service: everything beyond the smartjack is the customer's
    (Side.CUSTOMER_EQUIPMENT, "internet", TRUNK, "codec", CU, "internet.smartjack"),
    (
        Side.CUSTOMER_EQUIPMENT,
        "internet",
        Equipment(phones="customer", pbx="customer", qos_device="rented"),
        "qos",
        CT,
        "qos-device.rented",
    ),
]


@pytest.mark.parametrize(
    ("side", "service", "equipment", "subject", "responsible", "clause"),
    CELLS,
    ids=[f"{c[0].value}-{c[1]}-{c[3]}-{i}" for i, c in enumerate(CELLS)],
)
def test_support_policy_responsible_for(
    side: Side,
    service: str,
    equipment: Equipment,
    subject: Subject | None,
    responsible: Responsible,
    clause: str,
) -> None:
    assert responsible_for(side, service, equipment, subject) == (responsible, clause)
    assert CLAUSES[clause].responsible is responsible


def test_support_policy_same_codec_failure_differs_by_service() -> None:
    hosted = responsible_for(Side.CUSTOMER_EQUIPMENT, "hosted-pbx", HOSTED, "codec")
    trunk = responsible_for(Side.CUSTOMER_EQUIPMENT, "sip-trunk", TRUNK, "codec")
    assert (hosted[0], trunk[0]) == (CT, CU)


def test_support_policy_calling_device() -> None:
    assert calling_device("hosted-pbx", HOSTED) == "phones"
    assert calling_device("sip-trunk", TRUNK) == "pbx"
    iad_only = Equipment(phones="customer", pbx="none", iad="customer")
    assert calling_device("sip-trunk", iad_only) == "iad"
    assert calling_device("sip-trunk", Equipment(phones="customer", pbx="none")) == "phones"
