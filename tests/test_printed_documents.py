"""What the printed documents say (issue #18): the wording of the transfer letter, counts in
Chinese numerals, the parties' full ID numbers on the papers for a court (and the audit entry
of opening them), the QR codes of the notice and the certificate at the public address."""

import re

import pytest


def text_of(page: str) -> str:
    """The page as a reader sees it: tags gone, runs of white space one space."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


@pytest.mark.parametrize(
    ("category", "name"),
    [("neighbour", "邻里纠纷"), ("labour", "劳动争议"), ("family", "婚姻家庭"), ("other", "其他")],
)
def test_the_transfer_letter_names_the_category_once(client, login, make_case, category, name):
    case = make_case("transferred", category_code=category)
    login("staff")
    letter = client.get(f"/cases/{case.id}/print/transfer").get_data(as_text=True)
    assert f"之间的纠纷（纠纷类型：{name}）" in letter
    assert "纠纷纠纷" not in letter and "争议纠纷" not in letter


def test_the_transfer_letter_has_no_space_between_its_sentences(client, login, make_case):
    case = make_case("transferred")
    login("staff")
    letter = client.get(f"/cases/{case.id}/print/transfer").get_data(as_text=True)
    assert f"案号为{case.number}。因调解不成" in letter
