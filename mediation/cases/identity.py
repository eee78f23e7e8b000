"""Checks and masks for the identifiers of SPEC 3.1: resident ID, credit code, mobile."""

import re

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"
# [0-9], not \d: \d also matches full-width and other Unicode digits.
ID_PATTERN = re.compile(r"^[0-9]{17}[0-9X]$")

# GB 32100-2015: 31 characters without I, O, Z, S, V.
CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
CREDIT_PATTERN = re.compile(rf"^[{CREDIT_CHARS}]{{18}}$")

MOBILE_PATTERN = re.compile(r"^1[0-9]{10}$")


def normalise_id(value: str) -> str:
    return value.strip().upper().replace(" ", "")


def is_valid_resident_id(value: str) -> bool:
    value = normalise_id(value)
    if not ID_PATTERN.match(value):
        return False
    total = sum(int(digit) * weight for digit, weight in zip(value[:17], ID_WEIGHTS, strict=True))
    return ID_CHECK_CHARS[total % 11] == value[17]


def is_valid_credit_code(value: str) -> bool:
    value = normalise_id(value)
    if not CREDIT_PATTERN.match(value):
        return False
    total = sum(
        CREDIT_CHARS.index(char) * weight
        for char, weight in zip(value[:17], CREDIT_WEIGHTS, strict=True)
    )
    check = (31 - total % 31) % 31
    return CREDIT_CHARS[check] == value[17]


def is_valid_mobile(value: str) -> bool:
    return bool(MOBILE_PATTERN.match(value.strip()))


def mask_id(value: str | None) -> str:
    """3301**********1234: enough to tell two people apart, not enough to use."""
    if not value:
        return ""
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_phone(value: str | None) -> str:
    """138****5678"""
    if not value:
        return ""
    return value[:3] + "****" + value[-4:]


def mask_name(value: str) -> str:
    """张*明 / 李*: the family name and, for longer names, the last character."""
    if len(value) <= 1:
        return value
    if len(value) == 2:
        return value[0] + "*"
    return value[0] + "*" * (len(value) - 2) + value[-1]
