"""A Contact value with the address its URI names, parsed once for the run model."""

from __future__ import annotations

from sipprobe.model.endpoint import Endpoint
from sipprobe.model.steps import ContactBinding
from sipprobe.sip.message import contact_hostport


def contact_binding(value: str) -> ContactBinding:
    """``value`` (a Contact header value) with its URI's host and port (5060 when none)."""
    hostport = contact_hostport(value)
    return ContactBinding(value, Endpoint.parse(hostport) if hostport is not None else None)
