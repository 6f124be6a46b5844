import os
import stat
import threading
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from hypothesis import given
from hypothesis import strategies as st

from app.security.secretbox import (
    KEY_FILE_NAME,
    DecryptionError,
    SecretBox,
    SecretKeyError,
    load_or_create_key,
)

KEY_A = Fernet.generate_key()
KEY_B = Fernet.generate_key()


@given(st.binary(max_size=4096))
def test_what_is_encrypted_decrypts_back(plaintext: bytes) -> None:
    box = SecretBox([KEY_A])

    ciphertext = box.encrypt(plaintext)

    assert box.decrypt(ciphertext) == plaintext


def test_ciphertext_does_not_show_the_secret() -> None:
    secret = b"eyJhbGciOiJSUzI1NiJ9.service-account-token"

    assert secret not in SecretBox([KEY_A]).encrypt(secret)


def test_tampered_ciphertext_is_refused() -> None:
    box = SecretBox([KEY_A])
    ciphertext = bytearray(box.encrypt(b"token"))
    ciphertext[40] ^= 1

    with pytest.raises(DecryptionError):
        box.decrypt(bytes(ciphertext))


def test_ciphertext_under_another_key_is_refused() -> None:
    with pytest.raises(DecryptionError):
        SecretBox([KEY_B]).decrypt(SecretBox([KEY_A]).encrypt(b"token"))


def test_rotation_moves_ciphertexts_to_the_first_key() -> None:
    old = SecretBox([KEY_A]).encrypt(b"token")
    during = SecretBox([KEY_B, KEY_A])

    rotated = during.rotate(old)

    assert during.decrypt(old) == b"token"
    assert SecretBox([KEY_B]).decrypt(rotated) == b"token"
    with pytest.raises(DecryptionError):
        SecretBox([KEY_B]).rotate(old)


def test_repr_hides_keys() -> None:
    assert KEY_A.decode() not in repr(SecretBox([KEY_A]))


def test_key_file_is_created_private_and_reused(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    previous_umask = os.umask(0)
    try:
        first = load_or_create_key(data_dir, None)
    finally:
        os.umask(previous_umask)
    key_file = data_dir / KEY_FILE_NAME

    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    assert load_or_create_key(data_dir, None).decrypt(first.encrypt(b"x")) == b"x"
    assert [p.name for p in data_dir.iterdir()] == [KEY_FILE_NAME]


def test_processes_starting_together_agree_on_one_key(tmp_path: Path) -> None:
    boxes: list[SecretBox] = []
    start = threading.Barrier(8)

    def load() -> None:
        start.wait()
        boxes.append(load_or_create_key(tmp_path, None))

    threads = [threading.Thread(target=load) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    ciphertext = boxes[0].encrypt(b"x")
    assert len(boxes) == 8
    assert all(box.decrypt(ciphertext) == b"x" for box in boxes)
    assert [p.name for p in tmp_path.iterdir()] == [KEY_FILE_NAME]


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_key_file_readable_by_others_is_refused(tmp_path: Path, mode: int) -> None:
    key_file = tmp_path / KEY_FILE_NAME
    key_file.write_bytes(KEY_A)
    key_file.chmod(mode)

    with pytest.raises(SecretKeyError, match=f"mode {mode:04o}.*chmod 600"):
        load_or_create_key(tmp_path, None)


def test_key_file_that_is_a_symlink_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.write_bytes(KEY_A)
    target.chmod(0o600)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / KEY_FILE_NAME).symlink_to(target)

    with pytest.raises(SecretKeyError, match="cannot be used"):
        load_or_create_key(tmp_path / "data", None)


def test_dangling_symlink_is_not_followed_to_create_a_key(tmp_path: Path) -> None:
    (tmp_path / KEY_FILE_NAME).symlink_to(tmp_path / "planted")

    with pytest.raises(SecretKeyError):
        load_or_create_key(tmp_path, None)

    assert not (tmp_path / "planted").exists()


@pytest.mark.parametrize(("content", "fragment"), [("", "is empty"), ("nope\n", "key 1")])
def test_key_file_without_a_usable_key_is_refused(
    tmp_path: Path, content: str, fragment: str
) -> None:
    key_file = tmp_path / KEY_FILE_NAME
    key_file.write_text(content)
    key_file.chmod(0o600)

    with pytest.raises(SecretKeyError, match=fragment):
        load_or_create_key(tmp_path, None)


def test_key_file_may_list_old_keys_after_the_current_one(tmp_path: Path) -> None:
    key_file = tmp_path / KEY_FILE_NAME
    key_file.write_bytes(KEY_B + b"\n" + KEY_A + b"\n")
    key_file.chmod(0o600)

    box = load_or_create_key(tmp_path, None)

    assert box.decrypt(SecretBox([KEY_A]).encrypt(b"x")) == b"x"
    assert SecretBox([KEY_B]).decrypt(box.encrypt(b"y")) == b"y"


def test_environment_key_wins_and_no_file_is_written(tmp_path: Path) -> None:
    box = load_or_create_key(tmp_path, f"{KEY_B.decode()}, {KEY_A.decode()}")

    assert box.decrypt(SecretBox([KEY_A]).encrypt(b"x")) == b"x"
    assert SecretBox([KEY_B]).decrypt(box.encrypt(b"y")) == b"y"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("value", "fragment"),
    [("", "set but empty"), ("  ", "set but empty"), (f"{KEY_A.decode()},short", "key 2")],
)
def test_bad_environment_key_is_refused(tmp_path: Path, value: str, fragment: str) -> None:
    with pytest.raises(SecretKeyError, match=fragment):
        load_or_create_key(tmp_path, value)
