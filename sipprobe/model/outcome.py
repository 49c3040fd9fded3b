"""The words a result is told in: exit code, quality, side of the demarc, severity.

Enums only, apart from the result records in ``sipprobe.model.results``: the command line and
``sipprobe analyze`` need these at start-up and should not pay for building the dataclasses.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum


class ExitCode(IntEnum):
    """Monitoring-plugins exit codes, shared by every command."""

    OK = 0
    WARNING = 1
    CRITICAL = 2
    UNKNOWN = 3


class Quality(StrEnum):
    """A verdict on one aspect of the service at the demarc."""

    GOOD = "good"
    DEGRADED = "degraded"
    BAD = "bad"
    UNKNOWN = "unknown"


class Side(StrEnum):
    """Which side of the demarc a finding points to."""

    PLATFORM = "platform"
    CUSTOMER_NETWORK = "customer-network"
    CUSTOMER_EQUIPMENT = "customer-equipment"
    UNKNOWN = "unknown"


class Severity(StrEnum):
    """How much a finding weighs in the verdict: critical -> bad, warning -> degraded."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"
