"""Parties' personal access codes: random, shown once, stored only as a keyed hash.

A keyed hash (not a slow password hash) is enough: the codes are random with 40 bits of
entropy and look-ups are throttled, and the portal must answer quickly.
"""

import hashlib
import hmac
import secrets
import unicodedata

from flask import current_app

# Typed in from a letter or a certificate (its verification code): no 0/O, 1/I/L lookalikes.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LENGTH = 8


def new_access_code() -> str:
    return random_code()


def random_code() -> str:
    """LENGTH characters of ALPHABET, each equally likely: one number drawn from the system's
    generator, written in base len(ALPHABET) (a draw per character cost a system call each,
    eight per certificate of a ledger import)."""
    number = secrets.randbelow(len(ALPHABET) ** LENGTH)
    characters = []
    for _ in range(LENGTH):
        number, digit = divmod(number, len(ALPHABET))
        characters.append(ALPHABET[digit])
    return "".join(characters)


def normalise_code(code: str) -> str:
    """As typed on a phone: NFKC (a full-width input method gives ＡＢ２３), no spaces, upper."""
    return "".join(unicodedata.normalize("NFKC", code).split()).upper()


def hash_access_code(case_number: str, code: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    message = f"{case_number}\n{normalise_code(code)}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def carried_over(number: str, stored_hash: str) -> str:
    """A party's stored hash for a code issued under another number than the case's: an
    online application's code (hashed with the application's number), which becomes the
    applicant's access code when the application is accepted (SPEC 8). The code itself is
    never kept; the number it was hashed with is kept after its hash."""
    return f"{stored_hash}@{number}"


def stored_code_matches(digest: str, code: str, stored_hash: str) -> bool:
    """Whether a party's stored hash was made of `code`; `digest` is the code's hash under the
    case number, computed once for all the case's parties."""
    stored, _at, number = stored_hash.partition("@")
    if number:
        digest = hash_access_code(number, code)
    return bool(stored) and hmac.compare_digest(digest, stored)


def code_matches(case_number: str, code: str, stored_hash: str) -> bool:
    return bool(stored_hash) and hmac.compare_digest(
        hash_access_code(case_number, code), stored_hash
    )
