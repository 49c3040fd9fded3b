"""sipprobe: SIP signalling and media demarcation probe.

The public facade. Everything a script needs is importable from here; the subpackages are
implementation detail and may move.
"""

from sipprobe.errors import (
    CaptureError,
    ScenarioError,
    SecretError,
    SetupError,
    SignallingError,
    SipProbeError,
    UsageError,
)

__version__ = "0.1.0"

__all__ = [
    "CaptureError",
    "ScenarioError",
    "SecretError",
    "SetupError",
    "SignallingError",
    "SipProbeError",
    "UsageError",
    "__version__",
]
