"""Checks across rows and against the roster and the store, on real workbooks."""

from __future__ import annotations

from engine.demo_data import Roster
from engine.pipeline import process_file
from engine.problems import BY_NAME
from engine.workspace import Workspace
from tests.conftest import busiest_village, fill_like_staff, template_of


def _rules(outcome) -> dict[str, list[int]]:  # type: ignore[no-untyped-def]
    out: dict[str, list[int]] = {}
    for p in outcome.problems:
        out.setdefault(p.rule, []).append(p.row)
    return out


def test_roster_reconciliation_duplicates_and_region(county: Workspace, county_roster: Roster) -> None:
    village = busiest_village(county_roster)
    persons = [p for p in county_roster.persons if p["region_code"] == village]
    stranger = "34060219900101002"
    from engine.identifiers import check_digit

    stranger += check_digit(stranger)
    edits: dict[str, int] = {}

    def edit(sheet, cols) -> None:  # type: ignore[no-untyped-def]
        filled = [r for r in range(4, sheet.max_row + 1) if sheet.cell(r, cols["handler"]).value]
        sheet.cell(filled[0], cols["name"]).value = "改名字"                     # differs from roster
        edits["renamed"] = filled[0]
        blank = [r for r in range(4, sheet.max_row + 3) if not sheet.cell(r, cols["id_number"]).value]
        for row, number in ((blank[0], stranger), (blank[1], stranger)):      # new person, entered twice
            for col, value in cols.items():
                source = sheet.cell(filled[1], value).value
                if source is not None and col not in ("person_no", "id_number", "name", "sex", "birth_date"):
                    sheet.cell(row, value).value = source
            sheet.cell(row, cols["id_number"]).value = number
            sheet.cell(row, cols["name"]).value = "新来的"
            sheet.cell(row, cols["sex"]).value = "2 女"
        edits["new"], edits["again"] = blank[0], blank[1]

    fill_like_staff(template_of(county, village), county.inbox / "r.xlsx", persons, visit=4, edit=edit)
    outcome = process_file(county, county.inbox / "r.xlsx")
    rules = _rules(outcome)
    assert rules[BY_NAME["name_differs"].code] == [edits["renamed"]]
    assert rules[BY_NAME["not_on_roster"].code] == [edits["new"]]
    assert rules[BY_NAME["duplicate_in_file"].code] == [edits["again"]]
    assert outcome.count("persons", "new") == 1
    assert county.store.figures(county.region.code).region.new == 1


def test_a_workbook_of_another_county_is_refused(county: Workspace, county_roster: Roster) -> None:
    from engine.templates import write_village_workbook
    from engine.workbook import Identity

    foreign = county.inbox / "other-county.xlsx"
    write_village_workbook(foreign, "340621100001", Identity(kind="template", template_id="CB-340621100001",
                                                            region_code="340621100001"),
                           [], [], blank_persons=1, blank_units=1)
    outcome = process_file(county, foreign)
    assert outcome.status == "rejected"
    assert [p.rule for p in outcome.problems] == [BY_NAME["region_not_ours"].code]
    assert outcome.receipt is not None and outcome.receipt.exists()


def test_check_does_not_merge(county: Workspace, county_roster: Roster) -> None:
    village = busiest_village(county_roster)
    persons = [p for p in county_roster.persons if p["region_code"] == village]
    target = county.root / "draft.xlsx"
    fill_like_staff(template_of(county, village), target, persons, visit=3)
    outcome = process_file(county, target, merge=False)
    assert outcome.status == "checked" and outcome.receipt is not None
    assert "检查" in outcome.receipt.name
    assert county.store.figures(county.region.code).region.registered == 0
    assert target.exists()


def test_a_bug_while_processing_yields_a_receipt_and_keeps_the_file(
        county: Workspace, county_roster: Roster, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import engine.pipeline

    village = busiest_village(county_roster)
    persons = [p for p in county_roster.persons if p["region_code"] == village]
    dropped = county.inbox / "r.xlsx"
    fill_like_staff(template_of(county, village), dropped, persons, visit=2)

    def broken(*args: object) -> None:
        raise RuntimeError("34062119800101123X")   # a message that quotes a cell

    monkeypatch.setattr(engine.pipeline, "_check_sheet", broken)
    from engine.watching import ingest_files

    (outcome,) = ingest_files(county, [dropped])
    assert outcome.status == "rejected"
    assert [p.rule for p in outcome.problems] == [BY_NAME["internal_error"].code]
    assert outcome.receipt is not None and outcome.receipt.exists()
    assert not dropped.exists() and (county.unreadable / "r.xlsx").exists()
    assert any(county.archive.rglob("*r.xlsx"))
    log = (county.workbooks / "canbao.log").read_text(encoding="utf-8")
    assert "RuntimeError" in log and "34062119800101123X" not in log


def test_a_roster_person_written_with_an_old_15_digit_id_is_still_on_the_roster(
        county: Workspace, county_roster: Roster) -> None:
    from engine.form import PERSONS

    person = next(p for p in county_roster.persons if p["id_number"][6:8] == "19")
    legacy = person["id_number"][:6] + person["id_number"][8:17]
    values = {"id_number": legacy, "name": person["name"], "sex": person["sex"], "hukou_type": "20",
              "employment": "3", "identity": "70", "hukou_province": "安徽省", "hukou_city": "淮北市",
              "hukou_county": "杜集区", "home_province": "安徽省", "home_city": "淮北市", "home_county": "杜集区",
              "home_street": "1号", "mobile": "13912345678", "pension": "12", "handler": "甲", "reviewer": "乙",
              "region_code": person["region_code"]}
    fields = [f for f in PERSONS.fields if f.key in values]
    path = county.root / "foreign.csv"
    path.write_text(",".join(f.label for f in fields) + "\n" + ",".join(values[f.key] for f in fields) + "\n",
                    encoding="utf-8")
    outcome = process_file(county, path)
    assert [p.rule for p in outcome.problems] == [BY_NAME["id_legacy"].code]
    assert outcome.count("persons", "new") == 0 and outcome.count("persons", "accepted") == 1
