"""The README's cast is the one the sandbox seeds: tax ids, numbers and persons."""

from __future__ import annotations

from pathlib import Path

from banshui.accounts.identity import IDENTITIES
from banshui.accounts.uscc import region_name
from banshui.demo.cast import COMPANIES, LI_SI, S1, S2, S3, SUB_NUMBERS, ZHANG_SAN

README = Path(__file__).resolve().parents[2] / "README.md"


def _cast_rows() -> dict[str, list[str]]:
    """The rows of the README's cast tables, by their first cell."""
    section = README.read_text().split("### The cast\n", 1)[1].split("\n### ", 1)[0]
    rows = {}
    for line in section.splitlines():
        if line.startswith("| ") and "---" not in line:
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            rows[cells[0]] = cells[1:]
    return rows


def test_every_enterprise_of_the_cast_is_in_the_readme_with_its_tax_id() -> None:
    rows = _cast_rows()

    for company in COMPANIES:
        name, tax_id, region = rows[company.key]
        assert (name, tax_id) == (company.name, f"`{company.tax_id}`")
        assert region == f"{region_name(company.region)} (`{company.region}`)"


def test_every_person_is_in_the_readme_with_their_numbers_and_account() -> None:
    rows = _cast_rows()
    zhang, li = rows[ZHANG_SAN.name], rows[LI_SI.name]

    for member, row in ((ZHANG_SAN, zhang), (LI_SI, li)):
        assert row[:2] == [f"`{member.id_number}`", f"`{member.real_phone}`"]
    numbers = {"S1": S1, "S2": S2, "S3": S3}
    for label, number in numbers.items():
        owner, _source = SUB_NUMBERS[number]
        assert f"{label} `{number}`" in rows[owner.name][2]
    assert zhang[3].startswith(f"on S1: 03 {IDENTITIES['03']} of A, B and C")
    assert li[3].startswith(f"on S3: 09 {IDENTITIES['09']} of D")
