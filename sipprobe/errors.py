"""Exceptions raised by sipprobe.

Every error a user can cause or meet is a ``SipProbeError`` whose ``str()`` is one sentence
that says what went wrong and what to do; the CLI prints it as ``error: ...`` and exits 3.
A target that rejects or ignores the probe is *not* an exception: it is a measured result.

    SipProbeError
    +-- UsageError          bad command line (unknown option value, malformed URI)
    +-- ScenarioError       scenario file unreadable or invalid (carries file:line)
    +-- SecretError         a password variable or file is missing or unreadable
    +-- SetupError          the machine cannot do what was asked (port in use, no TLS CA file)
    +-- SignallingError     the SIP stack failed in a way that is not a network result
    +-- CaptureError        a capture file is unreadable or corrupt
"""

from __future__ import annotations


class SipProbeError(Exception):
    """Root of every error sipprobe raises on purpose."""


class UsageError(SipProbeError):
    """The command line asks for something that cannot work."""


class ScenarioError(SipProbeError):
    """A scenario file is unreadable or invalid.

    ``str()`` gives ``file:line: key: problem`` so an editor can jump to it.
    """

    def __init__(self, path: str, line: int | None, key: str, problem: str) -> None:
        self.path = path
        self.line = line
        self.key = key
        self.problem = problem
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {key}: {problem}" if key else f"{where}: {problem}")


class SecretError(SipProbeError):
    """A credential source named by the user does not give a password."""


class SetupError(SipProbeError):
    """The local machine cannot do what was asked."""


class SignallingError(SipProbeError):
    """The SIP stack failed locally (not a result measured from the target)."""


class CaptureError(SipProbeError):
    """A capture file cannot be read."""
