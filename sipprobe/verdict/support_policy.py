"""ClearTrunk's support policy as data: who answers for each segment of the path.

Read this module top to bottom as a support lead would read the policy. ``CLAUSES`` holds
every clause the probe applies, each with the party it makes responsible and its sentence
(paraphrased from ClearTrunk's "Support Policies" page). ``SEGMENTS_BY_SERVICE`` says, per
service type, which clause covers each segment of the path. The customer's equipment refines
it: ``PHONES``, ``QOS_DEVICE`` and ``IAD`` name the clause for each way of owning a device.

``responsible_for`` is the one function the verdict uses: from a finding's side of the demarc,
the service, the customer's equipment and what the finding is about, it gives the responsible
party and the clause id. It never guesses: a finding that names no side names nobody.
docs/demarc-policy.md explains the table in the project's words.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from sipprobe.model.demarc import Equipment, Responsible
from sipprobe.model.outcome import Side

Segment = Literal[
    "platform", "managed-equipment", "internet-service", "router", "lan", "pbx-configuration"
]
SEGMENTS: tuple[Segment, ...] = (
    "platform",  # the hosted platform or the SIP platform
    "managed-equipment",  # hosted IP phones, a rented or monitored QoS device, an IAD
    "internet-service",  # the customer's internet access
    "router",  # the customer's router
    "lan",  # the customer's LAN
    "pbx-configuration",  # the customer's PBX and its configuration
)

# What a customer-equipment finding is about (see verdict/attribution.py: subject_of).
Subject = Literal["credentials", "codec", "phone", "pbx", "qos", "nat", "iad"]

CLEARTRUNK, CUSTOMER, UNDETERMINED = (
    Responsible.CLEARTRUNK,
    Responsible.CUSTOMER,
    Responsible.UNDETERMINED,
)


@dataclass(frozen=True, slots=True)
class Clause:
    """One clause of the support policy: who it makes responsible, and what it says."""

    id: str
    responsible: Responsible
    sentence: str


CLAUSES: Mapping[str, Clause] = {
    clause.id: clause
    for clause in (
        Clause(
            "hosted-pbx.platform",
            CLEARTRUNK,
            "Hosted PBX: ClearTrunk's demarcation is good messaging and media from its hosted "
            "platform.",
        ),
        Clause(
            "hosted-pbx.phones",
            CLEARTRUNK,
            "Hosted PBX: ClearTrunk is also responsible for the functionality of the IP phones "
            "it supplies.",
        ),
        Clause(
            "sip-trunk.platform",
            CLEARTRUNK,
            "SIP trunk: ClearTrunk's demarcation is good messaging and media from its SIP "
            "platform.",
        ),
        Clause(
            "sip-trunk.phones",
            CLEARTRUNK,
            "SIP trunk: phones ClearTrunk supplied are among its supported phones.",
        ),
        Clause(
            "sip-trunk.pbx-configuration",
            CUSTOMER,
            "SIP trunk: once ClearTrunk has sent the configuration the trunk needs, installing "
            "and configuring the PBX is the customer's responsibility.",
        ),
        Clause(
            "internet.platform",
            CLEARTRUNK,
            "Internet service: ClearTrunk's demarcation is the local exchange carrier's main "
            "point of entry (smartjack); the circuit up to it is ClearTrunk's.",
        ),
        Clause(
            "internet.smartjack",
            CUSTOMER,
            "Internet service: extending the circuit from the smartjack to the customer's "
            "router or switch, and everything beyond it, is the customer's; a demarc extension "
            "bought from ClearTrunk is not warranted after activation and acceptance.",
        ),
        Clause(
            "customer-network",
            CUSTOMER,
            "The customer provides the internet service and the router; they and the LAN are "
            "the customer's.",
        ),
        Clause(
            "customer-equipment",
            CUSTOMER,
            "Equipment the customer provides (their own phones, PBX or devices) is the customer's.",
        ),
        Clause(
            "qos-device.rented",
            CLEARTRUNK,
            "A QoS device rented from ClearTrunk: ClearTrunk is responsible for its functionality.",
        ),
        Clause(
            "qos-device.sold-monitored",
            CLEARTRUNK,
            "A QoS device sold by ClearTrunk that the customer pays ClearTrunk to monitor: "
            "ClearTrunk is responsible for its functionality, not for hardware repair or "
            "replacement.",
        ),
        Clause(
            "qos-device.sold",
            CUSTOMER,
            "A QoS device sold by ClearTrunk without monitoring is the customer's.",
        ),
        Clause(
            "qos-device",
            UNDETERMINED,
            "QoS marking changed on a customer network that holds a QoS device ClearTrunk "
            "manages: the device is ClearTrunk's, the router the customer's, and the evidence "
            "cannot tell which one changed it.",
        ),
        Clause(
            "iad-configuration",
            CUSTOMER,
            "An IAD or QoS device ClearTrunk configured: the configuration is not warranted "
            "after the installation is complete and accepted; from then on the customer "
            "manages it, and the PBX configuration.",
        ),
        Clause(
            "undetermined",
            UNDETERMINED,
            "The evidence names no side of the demarc, so the policy names nobody: probe from "
            "another location and compare with sipprobe localize.",
        ),
    )
}

SEGMENTS_BY_SERVICE: Mapping[str, Mapping[Segment, str]] = {
    "hosted-pbx": {
        "platform": "hosted-pbx.platform",
        "managed-equipment": "hosted-pbx.phones",
        "internet-service": "customer-network",
        "router": "customer-network",
        "lan": "customer-network",
        "pbx-configuration": "customer-equipment",
    },
    "sip-trunk": {
        "platform": "sip-trunk.platform",
        "managed-equipment": "iad-configuration",
        "internet-service": "customer-network",
        "router": "customer-network",
        "lan": "customer-network",
        "pbx-configuration": "sip-trunk.pbx-configuration",
    },
    "internet": {
        "platform": "internet.platform",
        "managed-equipment": "internet.smartjack",
        "internet-service": "internet.platform",
        "router": "internet.smartjack",
        "lan": "internet.smartjack",
        "pbx-configuration": "internet.smartjack",
    },
}

# Per service, the clause for the phones by who supplied them.
PHONES: Mapping[str, Mapping[str, str]] = {
    "hosted-pbx": {"cleartrunk": "hosted-pbx.phones", "customer": "customer-equipment"},
    "sip-trunk": {"cleartrunk": "sip-trunk.phones", "customer": "customer-equipment"},
}
QOS_DEVICE: Mapping[str, str] = {
    "none": "customer-equipment",  # QoS is then done by the customer's own devices
    "rented": "qos-device.rented",
    "sold-monitored": "qos-device.sold-monitored",
    "sold": "qos-device.sold",
}
IAD: Mapping[str, str] = {
    "none": "customer-equipment",
    "cleartrunk-configured": "iad-configuration",
    "customer": "customer-equipment",
}
MANAGED_QOS_DEVICES = ("rented", "sold-monitored")


def _decided(clause_id: str) -> tuple[Responsible, str]:
    return CLAUSES[clause_id].responsible, clause_id


def calling_device(service: str, equipment: Equipment) -> Literal["phones", "pbx", "iad"]:
    """The customer-side device that registers and places calls, which the probe stands in
    for: the phones on a hosted PBX; the PBX on a SIP trunk (an IAD, else phones, when the
    customer has no PBX)."""
    if service == "hosted-pbx" or (equipment.pbx == "none" and equipment.iad == "none"):
        return "phones"
    return "pbx" if equipment.pbx == "customer" else "iad"


def _equipment_clause(service: str, equipment: Equipment, subject: Subject | None) -> str:
    if subject == "phone":
        device = "phones"
    elif subject == "pbx":
        device = "pbx"
    elif subject == "iad":
        device = "iad"
    else:  # credentials, codec, nat, or not known: the device that registers and calls
        device = calling_device(service, equipment)
    if device == "phones":
        return PHONES[service][equipment.phones]
    if device == "iad":
        return IAD[equipment.iad]
    return SEGMENTS_BY_SERVICE[service]["pbx-configuration"]


def responsible_for(
    finding_side: Side, service: str, equipment: Equipment, subject: Subject | None
) -> tuple[Responsible, str]:
    """Who must fix a finding, and the id of the clause that says so.

    ``subject`` is what a finding is about (``credentials``, ``codec``, ``phone``, ``pbx``,
    ``qos``, ``nat``, ``iad``) or None when it is about nothing more specific.
    """
    table = SEGMENTS_BY_SERVICE[service]
    if finding_side is Side.PLATFORM:
        return _decided(table["platform"])
    if finding_side is Side.UNKNOWN:
        return _decided("undetermined")
    if finding_side is Side.CUSTOMER_NETWORK:
        if subject == "qos" and equipment.qos_device in MANAGED_QOS_DEVICES:
            return _decided("qos-device")
        return _decided(table["router"])
    if subject == "qos" and (equipment.qos_device != "none" or service != "internet"):
        return _decided(QOS_DEVICE[equipment.qos_device])
    if service == "internet":  # everything beyond the smartjack is the customer's
        return _decided(table["pbx-configuration"])
    return _decided(_equipment_clause(service, equipment, subject))
