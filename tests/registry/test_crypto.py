import base64
import io

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from registry import crypto, services
from registry.models import Holder

ID = "110105199003071239"


def _key(byte: int) -> str:
    return base64.b64encode(bytes([byte]) * 32).decode()


def test_it_round_trips_an_id_number_and_hides_it_in_the_ciphertext():
    token = crypto.encrypt_id_number("111", ID)
    assert ID not in token
    assert crypto.decrypt_id_number("111", token) == ID
    assert crypto.encrypt_id_number("111", ID) != token  # fresh nonce every time


def test_it_records_the_key_id_in_the_ciphertext(settings):
    settings.ID_NUMBER_KEYS = f"k2:{_key(2)},k1:{_key(1)}"
    token = crypto.encrypt_id_number("111", ID)
    assert token.startswith("v1:k2:")
    assert crypto.key_id_of(token) == "k2"


def test_it_refuses_a_ciphertext_moved_to_another_id_type_or_tampered_with():
    token = crypto.encrypt_id_number("111", ID)
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt_id_number("414", token)
    body = token.split(":", 2)[2]
    flipped = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1]
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt_id_number("111", token.rsplit(":", 1)[0] + ":" + flipped)


def test_it_refuses_a_ciphertext_whose_key_is_gone(settings):
    settings.ID_NUMBER_KEYS = f"k1:{_key(1)}"
    token = crypto.encrypt_id_number("111", ID)
    settings.ID_NUMBER_KEYS = f"k2:{_key(2)}"
    with pytest.raises(crypto.DecryptionError, match="k1") as exc_info:
        crypto.decrypt_id_number("111", token)
    assert ID not in str(exc_info.value)


@pytest.mark.parametrize(
    "spec",
    ["", "nokeyid", f"k1:{base64.b64encode(b'short').decode()}", f"k1:{_key(1)},k1:{_key(2)}", "k1:%%%"],
)
def test_it_rejects_a_malformed_key_ring(settings, spec):
    settings.ID_NUMBER_KEYS = spec
    with pytest.raises(ImproperlyConfigured):
        crypto.encrypt_id_number("111", ID)


def test_it_makes_a_stable_keyed_blind_index_over_the_normalised_number(settings):
    index = crypto.blind_index("111", "11010819850101002X")
    assert len(index) == 64
    assert crypto.blind_index("111", " 11010819850101002x ") == index
    assert crypto.blind_index("111", "１１０１０８１９８５０１０１００２Ｘ") == index  # fullwidth input
    assert crypto.blind_index("414", "11010819850101002X") != index
    settings.ID_NUMBER_INDEX_KEY = _key(9)
    assert crypto.blind_index("111", "11010819850101002X") != index


@pytest.mark.django_db
def test_it_finds_a_holder_by_exact_id_number_through_the_index():
    holder = services.holder_create(kind="PERSON", name="张伟", id_type="111", id_number=ID)
    services.holder_create(kind="PERSON", name="李娜", id_type="111", id_number="110102198807150027")
    assert list(services.holder_find(ID)) == [holder]
    assert list(services.holder_find(ID.lower(), "111")) == [holder]
    assert not services.holder_find(ID, "414").exists()
    assert not services.holder_find(ID[:-1]).exists()  # exact match only


@pytest.mark.django_db
def test_it_rotates_every_row_to_the_current_key(settings):
    settings.ID_NUMBER_KEYS = f"k1:{_key(1)}"
    people = [
        services.holder_create(kind="PERSON", name="张伟", id_type="111", id_number=ID),
        services.holder_create(kind="PERSON", name="陈家明", id_type="516", id_number="H12345678"),
    ]
    settings.ID_NUMBER_KEYS = f"k2:{_key(2)},k1:{_key(1)}"
    out = io.StringIO()
    call_command("rotate_id_number_key", stdout=out)
    assert "rewritten=2" in out.getvalue()

    settings.ID_NUMBER_KEYS = f"k2:{_key(2)}"  # the old key can now be dropped
    for holder, number in zip(people, [ID, "H12345678"], strict=True):
        holder.refresh_from_db()
        assert crypto.key_id_of(holder.id_number_ciphertext) == "k2"
        assert crypto.reveal_id_number(holder) == number

    out = io.StringIO()
    call_command("rotate_id_number_key", stdout=out)
    assert "rewritten=0 unchanged=2" in out.getvalue()
    assert ID not in out.getvalue()


@pytest.mark.django_db
def test_it_reindexes_when_the_index_key_changes(settings):
    holder = services.holder_create(kind="PERSON", name="张伟", id_type="111", id_number=ID)
    settings.ID_NUMBER_INDEX_KEY = _key(7)
    assert not services.holder_find(ID).exists()
    call_command("rotate_id_number_key", stdout=io.StringIO())
    assert list(services.holder_find(ID)) == [holder]
    assert Holder.objects.get().id_number_index == crypto.blind_index("111", ID)
