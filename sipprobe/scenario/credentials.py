"""Where passwords come from: an environment variable or a file, never the command line.

A password never leaves this module except into the SIP stack's credential store; reports,
logs and bundles only ever say *where* it came from.
"""

from __future__ import annotations

import os
from pathlib import Path

from sipprobe.errors import SecretError

DEFAULT_PASSWORD_ENV = "SIPPROBE_PASSWORD"


def read_password(env_name: str | None, file_path: str | None) -> str:
    """The password from ``file_path`` when given, else from the variable ``env_name``."""
    if file_path:
        try:
            text = Path(file_path).read_text(encoding="utf-8")
        except OSError as exc:
            raise SecretError(f"cannot read password file {file_path}: {exc.strerror}") from exc
        password = text.splitlines()[0] if text else ""
        if not password:
            raise SecretError(f"password file {file_path} is empty")
        return password
    name = env_name or DEFAULT_PASSWORD_ENV
    value = os.environ.get(name)
    if not value:
        raise SecretError(
            f"environment variable {name} is not set: export it, or give --password-file FILE"
        )
    return value


def describe_source(env_name: str | None, file_path: str | None) -> str:
    """Where the password came from, for the report (never the password itself)."""
    if file_path:
        return f"file {file_path}"
    return f"environment variable {env_name or DEFAULT_PASSWORD_ENV}"
