"""Identifiers of SPEC 3.1: resident ID and credit code checksums, masks, access codes."""

import pytest

from mediation.cases.access_codes import (
    ALPHABET,
    LENGTH,
    code_matches,
    hash_access_code,
    new_access_code,
    normalise_code,
)
from mediation.cases.identity import (
    is_valid_credit_code,
    is_valid_mobile,
    is_valid_resident_id,
    mask_id,
    mask_name,
    mask_phone,
)

# Check digits worked out by hand with GB 11643 (weights 2^(17-i) mod 11) and GB 32100
# (weights 3^i mod 31); the credit codes of well-known companies agree.
VALID_IDS = ["11010519491231002X", "440524188001010014", "330106199003071236", "330102198511200022"]
VALID_CREDIT_CODES = [
    "91330106MA2B0Q7K41",
    "91330106MA2B0XKD1R",
    "12330106002500001H",
    "91330100799655058B",  # Alibaba (China) Co., Ltd.
    "914403001922038216",  # Huawei Technologies Co., Ltd.
]


@pytest.mark.parametrize("value", VALID_IDS + ["11010519491231002x", " 330106199003071236 "])
def test_valid_resident_ids(value):
    assert is_valid_resident_id(value)


@pytest.mark.parametrize(
    "value",
    [
        "330106199003071235",  # wrong check digit
        "110105194912310021",  # X expected
        "330106199003071X36",  # X only as the check character
        "33010619900307123",  # 17 characters
        "3301061990030712366",  # 19
        "３30106199003071236",  # a full-width digit would be stored as typed
        "33010619900307123６",
        "",
    ],
)
def test_invalid_resident_ids(value):
    assert not is_valid_resident_id(value)


@pytest.mark.parametrize("value", VALID_CREDIT_CODES + ["91330106ma2b0q7k41"])
def test_valid_credit_codes(value):
    assert is_valid_credit_code(value)


@pytest.mark.parametrize(
    "value",
    [
        "91330106MA2B0Q7K42",  # wrong check character
        "91330106MA2B0Q7K4",  # 17 characters
        "91330106MA2B0Q7KI1",  # I is not in the code's alphabet
        "91330106MA2B0Q7KO1",  # nor O
        "91330106MA2B0Q7K4Z",  # nor Z
        "",
    ],
)
def test_invalid_credit_codes(value):
    assert not is_valid_credit_code(value)


def test_mobiles():
    assert is_valid_mobile("13812345678")
    assert not is_valid_mobile("1381234567")
    assert not is_valid_mobile("23812345678")
    assert not is_valid_mobile("138-1234-5678")
    assert not is_valid_mobile("1３812345678")


def test_masks():
    assert mask_id("330106199003071234") == "3301**********1234"
    assert mask_id("91330106MA2B0Q7K41") == "9133**********7K41"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_id(None) == mask_phone("") == ""
    assert (mask_name("张三"), mask_name("欧阳明华"), mask_name("李")) == ("张*", "欧**华", "李")


# --- access codes ---------------------------------------------------------------------------


def test_access_codes_use_the_unambiguous_alphabet():
    codes = {new_access_code() for _ in range(300)}
    assert len(codes) == 300
    assert all(len(code) == LENGTH == 8 for code in codes)
    assert set("".join(codes)) <= set("23456789ABCDEFGHJKMNPQRSTUVWXYZ") == set(ALPHABET)
    # 300 codes of 8 characters use practically the whole alphabet.
    assert len(set("".join(codes))) == len(ALPHABET)


def test_an_access_code_matches_only_its_case_number(app):
    number = "西湖调〔2026〕42号"
    with app.app_context():
        stored = hash_access_code(number, "K7M2P9QX")
        assert "K7M2P9QX" not in stored
        assert code_matches(number, "K7M2P9QX", stored)
        assert code_matches(number, " k7m2 p9qx ", stored)
        assert not code_matches(number, "K7M2P9QY", stored)
        assert not code_matches("西湖调〔2026〕43号", "K7M2P9QX", stored)
        assert not code_matches(number, "K7M2P9QX", "")


def test_the_hash_depends_on_the_secret_key(app, another_app):
    number = "西湖调〔2026〕42号"
    with app.app_context():
        stored = hash_access_code(number, "K7M2P9QX")
    with another_app(SECRET_KEY="another-secret").app_context():
        assert not code_matches(number, "K7M2P9QX", stored)


def test_codes_are_normalised():
    assert normalise_code(" ab cd\t2345 ") == "ABCD2345"
    assert normalise_code("ＡＢｃｄ\u3000２３４５") == "ABCD2345"  # a full-width input method
