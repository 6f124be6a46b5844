"""Authenticated encryption of secrets at rest (cluster credentials).

Fernet (AES-128-CBC with HMAC-SHA256, from ``cryptography``) through ``MultiFernet``: the
first key encrypts, every key decrypts, so a key is rotated by putting the new one first,
re-encrypting with :meth:`SecretBox.rotate`, then dropping the old one.

The keys come from ``PLACER_SECRET_KEY`` (comma-separated Fernet keys) or, when that is unset,
from the file ``secret-key`` in the data directory (one key per line), which is generated
once. The file must be a regular file owned by the service's user and readable by it alone.
"""

from __future__ import annotations

import os
import re
import secrets
import stat
from collections.abc import Sequence
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

KEY_FILE_NAME = "secret-key"
_KEY_SEPARATORS = re.compile(r"[,\s]+")


class SecretKeyError(Exception):
    """The configured key, or the key file, cannot be used; the message says how to fix it."""


class DecryptionError(Exception):
    """A ciphertext was altered, or was encrypted under a key this box does not hold."""


class SecretBox:
    """Encrypts and decrypts byte strings under a list of keys, the first one current."""

    def __init__(self, keys: Sequence[bytes]) -> None:
        if not keys:
            raise SecretKeyError("at least one key is required")
        fernets: list[Fernet] = []
        for position, key in enumerate(keys, start=1):
            try:
                fernets.append(Fernet(key))
            except ValueError:
                raise SecretKeyError(
                    f"key {position} is not a Fernet key (32 bytes, URL-safe base64); "
                    "make one with `python -c 'from cryptography.fernet import Fernet; "
                    "print(Fernet.generate_key().decode())'`"
                ) from None
        self._fernet = MultiFernet(fernets)

    def __repr__(self) -> str:
        return "SecretBox(<keys hidden>)"

    def encrypt(self, plaintext: bytes) -> bytes:
        return self._fernet.encrypt(plaintext)

    def decrypt(self, ciphertext: bytes) -> bytes:
        try:
            return self._fernet.decrypt(ciphertext)
        except InvalidToken:
            raise DecryptionError(
                "ciphertext is corrupt or was encrypted under a key that is not configured"
            ) from None

    def rotate(self, ciphertext: bytes) -> bytes:
        """The same plaintext, encrypted under the current (first) key."""
        try:
            return self._fernet.rotate(ciphertext)
        except InvalidToken:
            raise DecryptionError(
                "ciphertext is corrupt or was encrypted under a key that is not configured"
            ) from None


def parse_keys(text: str) -> list[bytes]:
    """Keys separated by commas, spaces or new lines, first one current."""
    return [key.encode("ascii") for key in _KEY_SEPARATORS.split(text.strip()) if key]


def load_or_create_key(data_dir: Path, env_value: str | None) -> SecretBox:
    """The box for ``PLACER_SECRET_KEY`` if given, else for the key file in ``data_dir``.

    The key file is created when missing, with mode 0600, so that a concurrent start never
    reads a half-written file and never replaces a key another process already wrote.
    """
    if env_value is not None:
        if not env_value.strip():
            raise SecretKeyError(
                "PLACER_SECRET_KEY is set but empty; unset it to use the generated key file"
            )
        return SecretBox(parse_keys(env_value))
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = data_dir / KEY_FILE_NAME
    try:
        try:
            text = _read_private_file(path)
        except FileNotFoundError:
            text = _create_key_file(path)
    except OSError as error:
        raise SecretKeyError(f"key file {path} cannot be used: {error.strerror}") from None
    keys = parse_keys(text)
    if not keys:
        raise SecretKeyError(f"key file {path} is empty; delete it only if nothing was encrypted")
    return SecretBox(keys)


def _read_private_file(path: Path) -> str:
    descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    with os.fdopen(descriptor, "r", encoding="ascii") as file:
        status = os.fstat(file.fileno())
        if not stat.S_ISREG(status.st_mode):
            raise SecretKeyError(f"key file {path} is not a regular file")
        if status.st_uid != os.geteuid():
            raise SecretKeyError(f"key file {path} is not owned by the user running Placer")
        mode = stat.S_IMODE(status.st_mode)
        if mode & 0o077:
            raise SecretKeyError(
                f"key file {path} has mode {mode:04o}; it must be readable by its owner only "
                f"(chmod 600 {path})"
            )
        try:
            return file.read()
        except UnicodeDecodeError:
            raise SecretKeyError(f"key file {path} does not hold Fernet keys") from None


def _create_key_file(path: Path) -> str:
    """Write a new key to a private temporary file, then link it into place.

    ``link`` fails if the name exists, so of two processes starting together one key wins and
    both use it.
    """
    key = Fernet.generate_key().decode("ascii")
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    descriptor = os.open(temporary, flags, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as file:
            os.fchmod(file.fileno(), 0o600)
            file.write(key + "\n")
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return _read_private_file(path)
    finally:
        temporary.unlink(missing_ok=True)
    directory = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    return key + "\n"
