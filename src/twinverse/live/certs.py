"""OPC UA application instance certificates: make one, and lay out a trust list.

An OPC UA application proves who it is with an X.509 certificate whose
subjectAltName carries its *application URI*; peers check it against their
trust list (a folder of trusted certificates). :func:`make_certificate` writes
a self-signed certificate and its key as DER/PEM files, as a plant or an ingest
needs for SignAndEncrypt; ``valid_days`` and ``not_before`` allow making an
expired one for tests.
"""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass
from ipaddress import IPv4Address
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True, slots=True)
class CertificateFiles:
    """A certificate (DER) and its private key (PEM), and the application URI it names."""

    certificate: Path
    private_key: Path
    application_uri: str


def make_certificate(
    directory: Path,
    name: str,
    application_uri: str,
    *,
    valid_days: int = 825,
    not_before: dt.datetime | None = None,
    key_bits: int = 2048,
) -> CertificateFiles:
    """Write ``<name>.der`` and ``<name>.pem`` (the key) into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=key_bits)
    start = not_before or (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5))
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "twinverse"),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=valid_days))
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.UniformResourceIdentifier(application_uri),
                    x509.DNSName("localhost"),
                    x509.IPAddress(IPv4Address("127.0.0.1")),
                ]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=True,
                data_encipherment=True,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path = directory / f"{name}.der"
    key_path = directory / f"{name}.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.DER))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return CertificateFiles(cert_path, key_path, application_uri)


def trust(trust_dir: Path, *certificates: CertificateFiles) -> Path:
    """Copy certificates into a trust-list folder; returns the folder."""
    trust_dir.mkdir(parents=True, exist_ok=True)
    for files in certificates:
        shutil.copy(files.certificate, trust_dir / files.certificate.name)
    return trust_dir
