"""Where the probe stood, what the customer has, and who must fix a finding.

The words of the demarc verdict (see docs/demarc-policy.md): a run's ``Location``, the
customer's ``Equipment`` (with defaults per service type), and the ``Responsible`` party a
finding names. The support policy that maps one to the other lives in
``sipprobe.verdict.support_policy``. Enums and one small record only: the command line reads
the choices from here at start-up.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal, get_args


class Location(StrEnum):
    """Where the probe stood when it ran."""

    CUSTOMER_LAN = "customer-lan"  # on the customer's LAN, like their phones or PBX
    CUSTOMER_WAN = "customer-wan"  # between the customer's router and their internet access
    INTERNET = "internet"  # outside the customer's network
    PLATFORM = "platform"  # ClearTrunk's reference probe next to the platform

    @property
    def customer_network_on_path(self) -> bool:
        """Whether some of the customer's network lies between the probe and the platform."""
        return self in (Location.CUSTOMER_LAN, Location.CUSTOMER_WAN)

    @property
    def words(self) -> str:
        return {
            Location.CUSTOMER_LAN: "the customer LAN",
            Location.CUSTOMER_WAN: "the customer's WAN side",
            Location.INTERNET: "the internet",
            Location.PLATFORM: "beside the platform",
        }[self]


class Responsible(StrEnum):
    """Who must fix what a finding describes, by the support policy."""

    CLEARTRUNK = "cleartrunk"
    CUSTOMER = "customer"
    UNDETERMINED = "undetermined"


Phones = Literal["cleartrunk", "customer"]
QosDevice = Literal["none", "rented", "sold-monitored", "sold"]
Iad = Literal["none", "cleartrunk-configured", "customer"]
Pbx = Literal["customer", "none"]

PHONES: tuple[str, ...] = get_args(Phones)
QOS_DEVICES: tuple[str, ...] = get_args(QosDevice)
IADS: tuple[str, ...] = get_args(Iad)
PBXES: tuple[str, ...] = get_args(Pbx)


@dataclass(frozen=True, slots=True)
class Equipment:
    """Who owns (or manages) the devices on the customer's side of the demarc."""

    phones: Phones
    pbx: Pbx
    qos_device: QosDevice = "none"
    iad: Iad = "none"


def default_equipment(service: str) -> Equipment:
    """What a customer of ``service`` has unless the scenario says otherwise: hosted PBX
    customers use ClearTrunk's phones and no PBX of their own; SIP trunk (and internet)
    customers bring their own PBX and phones."""
    if service == "hosted-pbx":
        return Equipment(phones="cleartrunk", pbx="none")
    return Equipment(phones="customer", pbx="customer")
