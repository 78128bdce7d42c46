"""Validators (GB 11643, GB 32100, mobile), the encryption provider, masking, key rotation, the
append-only access log."""

from __future__ import annotations

import base64
import datetime as dt
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import IntegrityError, InternalError, ProgrammingError, transaction
from django.test import override_settings
from hypothesis import given
from hypothesis import strategies as st

from grids.registry import crypto, services, synthetic
from grids.registry.models import PersonalDataAccess, Resident
from grids.registry.validators import normalize_mobile, normalize_uscc, parse_resident_id

KEY_A = "a:" + base64.b64encode(b"A" * 32).decode()
KEY_B = "b:" + base64.b64encode(b"B" * 32).decode()


# --- validators -----------------------------------------------------------------------------------


def test_resident_id_check_digit_birth_date_and_sex():
    parsed = parse_resident_id("11010519491231002X")  # the standard's own worked example
    assert parsed.birth_date == dt.date(1949, 12, 31) and parsed.sex == "F"
    assert parse_resident_id(" 11010519491231002x ").number == "11010519491231002X"
    for bad, code in [
        ("110105194912310021", "id_check"),
        ("11010519491331002X", "id_birth"),
        ("1101051949123100", "id_format"),
        ("110105294912310028", "id_birth"),
    ]:
        with pytest.raises(ValidationError) as err:
            parse_resident_id(bad)
        assert err.value.code == code
        assert bad not in " ".join(err.value.messages)


@given(st.integers(min_value=0, max_value=300_000))
def test_every_synthetic_id_is_valid_and_not_a_real_region(n):
    number = synthetic.resident_id(n)
    assert parse_resident_id(number).number == number
    assert number.startswith("99")


def test_synthetic_ids_are_distinct():
    assert len({synthetic.resident_id(n) for n in range(100_000)}) == 100_000


def test_mobile_numbers():
    assert normalize_mobile("+86 138-0000-1234") == "13800001234"
    for bad in ("12800001234", "1380000123", "phone"):
        with pytest.raises(ValidationError):
            normalize_mobile(bad)


def test_unified_social_credit_code_check_character():
    assert normalize_uscc("91350100M000100Y43") == "91350100M000100Y43"  # a published example code
    with pytest.raises(ValidationError):
        normalize_uscc("91350100M000100Y44")
    with pytest.raises(ValidationError):
        normalize_uscc("91350100M000100I43")
    for n in range(200):
        code = synthetic.credit_code(n)
        assert normalize_uscc(code) == code


# --- the provider ---------------------------------------------------------------------------------


def test_aes_gcm_round_trip_binds_the_column_and_detects_tampering():
    token = crypto.encrypt("13800001234", column="phone")
    assert token.startswith("aes-gcm$") and "13800001234" not in token
    assert crypto.encrypt("13800001234", column="phone") != token  # fresh nonce each time
    assert crypto.decrypt(token, column="phone") == "13800001234"
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(token, column="id_number")
    cipher, kid, body = token.split("$")
    raw = bytearray(base64.b64decode(body))
    raw[-1] ^= 1
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(f"{cipher}${kid}${base64.b64encode(bytes(raw)).decode()}", column="phone")


def test_sm4_provider_and_switching_cipher_loses_nothing():
    old = crypto.encrypt("secret", column="phone")
    with override_settings(REGISTRY_CIPHER="sm4-gcm"):
        token = crypto.encrypt("secret", column="phone")
        assert token.startswith("sm4-gcm$")
        assert crypto.decrypt(token, column="phone") == "secret"
        assert crypto.decrypt(old, column="phone") == "secret"
    assert crypto.decrypt(token, column="phone") == "secret"


def test_key_rotation_old_keys_still_decrypt():
    with override_settings(REGISTRY_ENCRYPTION_KEYS=[KEY_A]):
        under_a = crypto.encrypt("330381", column="id_number")
    with override_settings(REGISTRY_ENCRYPTION_KEYS=[KEY_B, KEY_A]):
        under_b = crypto.encrypt("330381", column="id_number")
        assert under_b.split("$")[1] == "b"
        assert crypto.decrypt(under_a, column="id_number") == "330381"
    with override_settings(REGISTRY_ENCRYPTION_KEYS=[KEY_B]), pytest.raises(crypto.DecryptionError):
        crypto.decrypt(under_a, column="id_number")


def test_keyed_hash_depends_on_its_own_key_and_the_column():
    h = crypto.blind_index("13800001234", column="phone")
    assert len(h) == 64 and h == crypto.blind_index("13800001234", column="phone")
    assert h != crypto.blind_index("13800001234", column="id_number")
    with override_settings(REGISTRY_HASH_KEY=base64.b64encode(b"H" * 32).decode()):
        assert crypto.blind_index("13800001234", column="phone") != h
    with override_settings(REGISTRY_HASH_ALGORITHM="sm3"):
        assert crypto.blind_index("13800001234", column="phone") != h


def test_bad_key_configuration_fails_loudly():
    short = ["short:" + base64.b64encode(b"x" * 8).decode()]
    with override_settings(REGISTRY_ENCRYPTION_KEYS=short), pytest.raises(ImproperlyConfigured):
        crypto.encrypt("x", column="phone")
    same = {"REGISTRY_HASH_KEY": KEY_A.split(":", 1)[1], "REGISTRY_ENCRYPTION_KEYS": [KEY_A]}
    with override_settings(**same), pytest.raises(ImproperlyConfigured):
        crypto.blind_index("x", column="phone")


def test_production_settings_refuse_to_start_without_keys(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "SECRET_KEY": "x",
        "DEBUG": "0",
        "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
    }
    code = "import ruian_grid.settings"
    result = subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0 and "REGISTRY_ENCRYPTION_KEYS" in result.stderr


def test_masks():
    assert crypto.mask_id("330381199001011234") == "330381********1234"
    assert crypto.mask_phone("13812345678") == "138****5678"
    assert crypto.mask_id("E12345678") == "E1*****78"


# --- stored residents -----------------------------------------------------------------------------


def test_stored_resident_holds_no_number_in_clear(cast, people):
    row = Resident.objects.filter(pk=people.r1.pk).values().get()
    dump = str(row) + str(list(people.r1.history.values()))
    assert synthetic.resident_id(1001) not in dump and synthetic.mobile(1001) not in dump
    assert row["birth_year"] == int(synthetic.resident_id(1001)[6:10])


def test_resident_update_with_the_same_numbers_writes_no_history(cast, people):
    before = people.r1.history.count()
    services.resident_update(
        actor=cast.city_admin,
        resident=people.r1,
        id_number=synthetic.resident_id(1001),
        phone=synthetic.mobile(1001),
    )
    assert people.r1.history.count() == before


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_access_log_is_append_only_in_the_database(cast, people):
    services.personal_data_reveal(actor=cast.city_admin, resident=people.r1, reason="核对身份")
    entry = PersonalDataAccess.objects.get()
    for attempt in (
        lambda: PersonalDataAccess.objects.filter(pk=entry.pk).update(reason="改掉"),
        lambda: PersonalDataAccess.objects.filter(pk=entry.pk).delete(),
    ):
        with pytest.raises((InternalError, ProgrammingError, IntegrityError)), transaction.atomic():
            attempt()
    assert PersonalDataAccess.objects.get().reason == "核对身份"


def test_rekey_moves_every_number_to_the_current_key_and_loses_nothing(cast, people):
    with override_settings(REGISTRY_ENCRYPTION_KEYS=[KEY_A]):
        extra = services.resident_create(
            actor=cast.city_admin, household=people.h2, name="旧钥匙", id_number=synthetic.resident_id(4000),
            phone=synthetic.mobile(4000),
        )  # fmt: skip
    assert extra.id_number_enc.split("$")[1] == "a"
    with override_settings(REGISTRY_ENCRYPTION_KEYS=[KEY_B, KEY_A, *settings.REGISTRY_ENCRYPTION_KEYS]):
        assert services.personal_data_rekey(batch_size=2) == 4  # every row was under another key than b
        assert services.personal_data_rekey() == 0
        extra.refresh_from_db()
        assert extra.id_number_enc.split("$")[1] == "b"
        assert crypto.decrypt(extra.id_number_enc, column="id_number") == synthetic.resident_id(4000)
        revealed = services.personal_data_reveal(
            actor=cast.city_admin, resident=people.r1, reason="轮换后核对"
        )
        assert revealed.phone == synthetic.mobile(1001)
    with override_settings(REGISTRY_ENCRYPTION_KEYS=[KEY_B]):
        assert crypto.decrypt(extra.phone_enc, column="phone") == synthetic.mobile(4000)


def test_deploy_check_reports_bad_registry_keys():
    from grids.registry.checks import registry_keys

    assert registry_keys() == []
    with override_settings(REGISTRY_HASH_KEY=KEY_A.split(":", 1)[1], REGISTRY_ENCRYPTION_KEYS=[KEY_A]):
        assert [e.id for e in registry_keys()] == ["registry.E001"]
    with override_settings(REGISTRY_CIPHER="des"):
        assert [e.id for e in registry_keys()] == ["registry.E001"]
