"""A throwaway certificate authority for lab TLS peers, made with the openssl CLI.

Keys are EC P-256 (instant to generate); certificates live two days. The server
certificate names IP:127.0.0.1, IP:::1 and DNS:localhost, so clients can verify it against
`ca_file` with hostname checking on.
"""

import subprocess
from dataclasses import dataclass
from pathlib import Path

SERVER_SAN = "IP:127.0.0.1,IP:::1,DNS:localhost"
_EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]


@dataclass(frozen=True, slots=True)
class LabCertificates:
    """Paths of one CA and of one server certificate it signed (all PEM)."""

    ca_file: Path
    server_cert: Path
    server_key: Path


def _openssl(args: list[str], cwd: Path) -> None:
    result = subprocess.run(
        ["openssl", *args], cwd=cwd, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)} failed:\n{result.stderr}")


def make_certificates(directory: Path, san: str = SERVER_SAN) -> LabCertificates:
    """Write ca.pem/ca.key and server.pem/server.key (signed by the CA) into `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    _openssl(
        [
            "req", "-x509", *_EC_KEY, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=sipprobe lab CA",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        ],
        directory,
    )  # fmt: skip
    _openssl(
        ["req", *_EC_KEY, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"],
        directory,
    )
    (directory / "server.ext").write_text(
        f"subjectAltName={san}\n"
        "basicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature,keyAgreement\n"
        "extendedKeyUsage=serverAuth\n"
    )
    _openssl(
        [
            "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "server.ext",
        ],
        directory,
    )  # fmt: skip
    return LabCertificates(
        ca_file=directory / "ca.pem",
        server_cert=directory / "server.pem",
        server_key=directory / "server.key",
    )
