"""What the server's key signs for an agent package, and where the signature lives.

The server's CA key (the one whose certificate every agent already trusts, ``tls/ca.pem``) signs
the package's name and SHA-256 with ECDSA P-256/SHA-256. The message starts with its own label,
so the signature can never pass for a certificate or anything else that key signs. Our agent
refuses a package without a signature or with one its CA does not verify.
"""

from __future__ import annotations

SUFFIX = ".sig"  # base64 DER signature, beside the package: openassist-agent-X.zip.sig


def signed_message(file_name: str, sha256: str) -> bytes:
    return f"openassist agent package\n{file_name}\n{sha256.lower()}\n".encode()


def signature_name(file_name: str) -> str:
    return file_name + SUFFIX
