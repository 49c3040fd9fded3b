"""Files that appear whole or not at all: written to a temporary name, then renamed."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

# Readable by others: node_exporter reads metrics files as its own user, and nothing the
# probe writes holds a secret.
FILE_MODE = 0o644


@contextmanager
def atomic_file(path: Path) -> Iterator[BinaryIO]:
    """A stream whose content replaces ``path`` only once it was written without error.

    The temporary file sits beside ``path`` (a rename within one file system is atomic) and
    ends in ``.tmp``, so a collector globbing ``*.prom`` never reads a half-written one.
    """
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            yield stream
        os.chmod(temporary, FILE_MODE)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_atomically(path: Path, data: bytes) -> None:
    with atomic_file(path) as stream:
        stream.write(data)
