"""The backups' encryption: AES-256-GCM over 1 MiB chunks, streamed.

Each chunk carries its own tag, its number in the nonce and whether it is the last one in
the associated data, so that a file cut short, a chunk altered, reordered or dropped, and
a wrong key are each refused, with a message that says which.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import struct
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.utils.translation import gettext as _

MAGIC = b"CAISSE-BACKUP-1\n"
CHUNK = 1024 * 1024
_LAST, _MORE = b"last", b"more"


class BackupError(Exception):
    """A backup or restore refused, with a message for the person running it."""


class WrongKey(BackupError):
    pass


class DamagedBackup(BackupError):
    pass


def new_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def load_key(text: str) -> bytes:
    if not text:
        raise BackupError(_("No encryption key: set BACKUP_ENCRYPTION_KEY (make one with `manage.py backup --new-key`)."))
    try:
        key = base64.urlsafe_b64decode(text.strip().encode())
    except (ValueError, TypeError):
        key = b""
    if len(key) != 32:
        raise BackupError(_("BACKUP_ENCRYPTION_KEY is not a key made by `manage.py backup --new-key` (32 bytes, base64)."))
    return key


def _key_check(key: bytes) -> bytes:
    return hmac.new(key, b"caisse-backup-key-check", hashlib.sha256).digest()[:8]


class EncryptingWriter:
    """A write-only file: what is written goes out encrypted to `out`; close() seals it."""

    def __init__(self, out: BinaryIO, key: bytes):
        self._out, self._aead, self._prefix = out, AESGCM(key), os.urandom(8)
        self._buffer, self._counter = bytearray(), 0
        out.write(MAGIC + _key_check(key) + self._prefix)

    def _emit(self, data: bytes, last: bool) -> None:
        nonce = self._prefix + struct.pack(">I", self._counter)
        sealed = self._aead.encrypt(nonce, data, _LAST if last else _MORE)
        self._out.write(struct.pack(">I", len(sealed)) + sealed)
        self._counter += 1

    def write(self, data: bytes) -> int:
        self._buffer += data
        while len(self._buffer) > CHUNK:
            self._emit(bytes(self._buffer[:CHUNK]), last=False)
            del self._buffer[:CHUNK]
        return len(data)

    def close(self) -> None:
        self._emit(bytes(self._buffer), last=True)
        self._buffer.clear()


def decrypt(source: BinaryIO, out: BinaryIO, key: bytes) -> None:
    header = source.read(len(MAGIC) + 16)
    if len(header) < len(MAGIC) + 16 or not header.startswith(MAGIC):
        raise DamagedBackup(_("This file is not a Caisse backup, or it is cut short at its start."))
    if not hmac.compare_digest(header[len(MAGIC) : len(MAGIC) + 8], _key_check(key)):
        raise WrongKey(_("This backup was encrypted with another key: check BACKUP_ENCRYPTION_KEY."))
    prefix, aead, counter = header[len(MAGIC) + 8 :], AESGCM(key), 0
    while True:
        size_bytes = source.read(4)
        if len(size_bytes) < 4:
            raise DamagedBackup(_("This backup is truncated: it ends before its last part (copy it again from its source)."))
        (size,) = struct.unpack(">I", size_bytes)
        if size > CHUNK + 16:
            raise DamagedBackup(_("This backup is corrupted (part %(n)d is malformed).") % {"n": counter + 1})
        sealed = source.read(size)
        if len(sealed) < size:
            raise DamagedBackup(_("This backup is truncated: it ends before its last part (copy it again from its source)."))
        nonce = prefix + struct.pack(">I", counter)
        for marker in (_MORE, _LAST):
            try:
                data = aead.decrypt(nonce, sealed, marker)
            except InvalidTag:
                continue
            out.write(data)
            if marker == _LAST:
                if source.read(1):
                    raise DamagedBackup(_("This backup is corrupted: data follows its last part."))
                return
            break
        else:
            raise DamagedBackup(_("This backup is corrupted (part %(n)d does not match its checksum).") % {"n": counter + 1})
        counter += 1
