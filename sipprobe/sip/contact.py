"""A Contact value with the address its URI names, parsed once for the run model."""

from __future__ import annotations

from sipprobe.model.steps import ContactBinding
from sipprobe.sip.uri import contact_endpoint


def contact_binding(value: str) -> ContactBinding:
    """``value`` (a Contact header value) with the address its URI points at (``None``
    when it holds no SIP URI)."""
    return ContactBinding(value, contact_endpoint(value))
