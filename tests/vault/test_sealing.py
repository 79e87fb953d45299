from __future__ import annotations

import uuid

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.factories import sealed_moment
from vault.crypto import NONCE_BYTES, new_key, seal_bytes, unseal_bytes
from vault.errors import SealBroken
from vault.keys import PersonKeys, keys_for
from vault.models import Moment

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.text(max_size=50)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=20,
)
KEYS = PersonKeys.from_dek(uuid.uuid4(), new_key())


@given(payload=json_values, record_id=st.uuids())
@settings(max_examples=300)
def test_every_sealed_value_round_trips(payload, record_id):
    blob = KEYS.seal("moment", record_id, payload)
    assert KEYS.unseal("moment", record_id, blob) == payload


@given(data=st.binary(max_size=2000))
def test_raw_bytes_round_trip(data):
    record_id = uuid.uuid4()
    assert KEYS.unseal_raw("upload", record_id, KEYS.seal_raw("upload", record_id, data)) == data


def test_no_nonce_repeats_across_ten_thousand_seals():
    aead = AESGCM(new_key())
    nonces = {seal_bytes(aead, b"same value", b"same aad")[1 : 1 + NONCE_BYTES] for _ in range(10_000)}
    assert len(nonces) == 10_000


def test_sealing_the_same_value_twice_gives_different_ciphertexts():
    record_id = uuid.uuid4()
    assert KEYS.seal("moment", record_id, {"label": "x"}) != KEYS.seal("moment", record_id, {"label": "x"})


def test_a_blob_moved_to_another_record_id_does_not_open():
    blob = KEYS.seal("moment", uuid.uuid4(), {"label": "secret"})
    with pytest.raises(SealBroken, match="sealed for another owner or record"):
        KEYS.unseal("moment", uuid.uuid4(), blob)


def test_a_blob_moved_to_another_record_type_does_not_open():
    record_id = uuid.uuid4()
    blob = KEYS.seal("moment", record_id, {"label": "secret"})
    with pytest.raises(SealBroken):
        KEYS.unseal("social_item", record_id, blob)


@given(position=st.integers(min_value=0, max_value=40))
def test_any_flipped_byte_breaks_the_seal(position):
    record_id = uuid.uuid4()
    blob = bytearray(KEYS.seal("moment", record_id, {"label": "secret"}))
    blob[position % len(blob)] ^= 0x01
    with pytest.raises(SealBroken):
        KEYS.unseal("moment", record_id, bytes(blob))


def test_truncated_blobs_are_refused():
    with pytest.raises(SealBroken):
        unseal_bytes(AESGCM(new_key()), b"\x01short", b"")


@pytest.mark.django_db
def test_ciphertext_copied_to_another_row_fails_with_a_clear_error(person):
    first = sealed_moment(person, "Trevi fountain")
    second = sealed_moment(person, "Pantheon")
    Moment.objects.filter(pk=second.pk).update(sealed=first.sealed)
    second.refresh_from_db()
    assert first.open(keys_for(person)) == {"label": "Trevi fountain"}
    with pytest.raises(SealBroken) as raised:
        second.open(keys_for(person))
    assert raised.value.code == "SealBroken"
    assert "Trevi" not in str(raised.value)


@pytest.mark.django_db
def test_ciphertext_copied_to_another_owner_fails(person, other_person):
    mine = sealed_moment(person, "Trevi fountain")
    theirs = sealed_moment(other_person, "Colosseum")
    # The same record id under another owner: my blob must not open with their key.
    stolen = Moment(id=mine.id, owner=other_person, sealed=mine.sealed)
    with pytest.raises(SealBroken):
        stolen.open(keys_for(other_person))
    assert theirs.open(keys_for(other_person)) == {"label": "Colosseum"}
