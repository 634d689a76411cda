"""RSA PKCS#1 v1.5 signing through the OpenSSL library that the ``ssl`` module already loaded.

Why: the agent must sign every request, and importing ``cryptography`` for that costs about
7.5 MB of resident memory at idle, a quarter of the agent's budget. ``libcrypto`` is mapped into
the process anyway for TLS, so binding its EVP signing calls with ctypes costs ~0.4 MB. OpenSSL
does all the cryptography; this module only passes buffers. ``load`` returns None when no
suitable libcrypto can be bound, and the caller falls back to ``cryptography``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import ssl
from collections.abc import Callable
from pathlib import Path

_P = ctypes.c_void_p


def _loaded_libcrypto() -> str | None:
    """The libcrypto that ``ssl`` uses, from this process's memory map (same build, no search)."""
    try:
        for line in Path("/proc/self/maps").read_text().splitlines():
            path = line.split()[-1]
            if "/libcrypto.so" in path:
                return path
    except OSError:
        pass
    return ctypes.util.find_library("crypto")


def _bind(lib: ctypes.CDLL) -> None:
    signatures: dict[str, tuple[object, list[object]]] = {
        "BIO_new_mem_buf": (_P, [ctypes.c_char_p, ctypes.c_int]),
        "BIO_free": (ctypes.c_int, [_P]),
        "PEM_read_bio_PrivateKey": (_P, [_P, _P, _P, _P]),
        "EVP_PKEY_free": (None, [_P]),
        "EVP_get_digestbyname": (_P, [ctypes.c_char_p]),
        "EVP_MD_CTX_new": (_P, []),
        "EVP_MD_CTX_free": (None, [_P]),
        "EVP_DigestSignInit": (ctypes.c_int, [_P, _P, _P, _P, _P]),
        "EVP_DigestSign": (
            ctypes.c_int,
            [
                _P,
                ctypes.c_char_p,
                ctypes.POINTER(ctypes.c_size_t),
                ctypes.c_char_p,
                ctypes.c_size_t,
            ],
        ),
    }
    for name, (restype, argtypes) in signatures.items():
        function = getattr(lib, name)
        function.restype = restype
        function.argtypes = argtypes


class OpenSslSigner:
    """Holds one private key inside OpenSSL; ``sign`` is RSA PKCS#1 v1.5 over ``digest``."""

    def __init__(self, lib: ctypes.CDLL, key_pem: bytes, digest: str) -> None:
        self._lib = lib
        bio = lib.BIO_new_mem_buf(key_pem, len(key_pem))
        if not bio:
            raise ValueError("OpenSSL could not allocate a buffer for the key")
        try:
            self._key = lib.PEM_read_bio_PrivateKey(bio, None, None, None)
        finally:
            lib.BIO_free(bio)
        if not self._key:
            raise ValueError("OpenSSL could not read the private key")
        self._md = lib.EVP_get_digestbyname(digest.encode())
        if not self._md:
            raise ValueError(f"OpenSSL has no digest {digest}")

    def sign(self, message: bytes) -> bytes:
        lib = self._lib
        context = lib.EVP_MD_CTX_new()
        if not context:
            raise MemoryError("EVP_MD_CTX_new failed")
        try:
            if lib.EVP_DigestSignInit(context, None, self._md, None, self._key) != 1:
                raise ValueError("EVP_DigestSignInit failed")
            length = ctypes.c_size_t(0)
            if lib.EVP_DigestSign(context, None, ctypes.byref(length), message, len(message)) != 1:
                raise ValueError("EVP_DigestSign (length) failed")
            buffer = ctypes.create_string_buffer(length.value)
            if (
                lib.EVP_DigestSign(context, buffer, ctypes.byref(length), message, len(message))
                != 1
            ):
                raise ValueError("EVP_DigestSign failed")
            return buffer.raw[: length.value]
        finally:
            lib.EVP_MD_CTX_free(context)

    def __del__(self) -> None:
        key = getattr(self, "_key", None)
        if key:
            self._lib.EVP_PKEY_free(key)


def load(key_pem: bytes, digest: str = "MD5") -> Callable[[bytes], bytes] | None:
    """A signing function backed by the process's libcrypto, or None if it cannot be bound."""
    if not ssl.OPENSSL_VERSION.startswith("OpenSSL 3"):
        return None  # the bound calls are checked against OpenSSL 3's API only
    path = _loaded_libcrypto()
    if path is None:
        return None
    try:
        lib = ctypes.CDLL(path)
        _bind(lib)
        return OpenSslSigner(lib, key_pem, digest).sign
    except (OSError, AttributeError, ValueError):
        return None
