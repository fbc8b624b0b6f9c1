"""What changed since an earlier copy: records new, removed, changed, withdrawn and revised."""

from __future__ import annotations

import datetime as dt
import email
from email import policy
from pathlib import Path

from typer.testing import CliRunner

from briefing.changes import compare_dossiers
from briefing.cli import app
from briefing.model import CellValue, Dossier
from briefing.pipeline import example_records, load_dossier
from briefing.workbook import workbook_bytes
from tests.conftest import cell, memo_text, set_cells
from tests.test_edition import RECORDS, figure, judgment, reaction

DAY = dt.date(2024, 6, 14)


def write(path: Path, records: dict[str, list[dict[str, CellValue]]], date: str) -> Path:
    _, briefing = example_records()
    path.write_bytes(workbook_bytes(records, {**briefing, "Date": date}))
    return path


def later_records() -> dict[str, list[dict[str, CellValue]]]:
    """Yesterday's records with today's edits: one of each kind of change."""
    records = {sheet: [dict(row) for row in rows] for sheet, rows in RECORDS.items()}
    records["Figures"].append(figure("F6", "2024-06-14"))  # new
    records["Figures"][0]["Value"] = 99  # changed
    records["Figures"][0]["Quote"] = "It shot down 99 drones."
    records["Figures"][1]["Note"] = "analyst only"  # not printed, not a change
    records["Reactions"] = [r for r in records["Reactions"] if r["ID"] != "R2"]  # removed
    records["Demands"][0]["Withdrawn"] = "2024-06-14"  # withdrawn
    records["Judgments"].append(judgment("J3", "2024-06-14", "very likely", "F2"))  # revised
    records["Timeline"].append(
        {"Date": "2024-06-14", "Event": "Talks.", "Source": "S1", "Quote": "q"}
    )
    return records


def dossiers(tmp_path: Path) -> tuple[Dossier, Dossier]:
    old = load_dossier(write(tmp_path / "old.xlsx", RECORDS, "2024-06-13"))
    new = load_dossier(write(tmp_path / "new.xlsx", later_records(), "2024-06-14"))
    return old, new


def test_every_kind_of_change_is_found_once(tmp_path: Path) -> None:
    old, new = dossiers(tmp_path)
    changes = compare_dossiers(old, new, DAY)
    found = [(c.sheet, c.kind, c.record_id) for c in changes.records]
    assert found == [
        ("Demands", "withdrawn", "D1"),
        ("Reactions", "removed", "R2"),
        ("Figures", "changed", "F1"),
        ("Figures", "new", "F6"),
        ("Judgments", "revised", "J3"),
        ("Timeline", "new", ""),
    ]
    changed = next(c for c in changes.records if c.kind == "changed")
    assert [(f.header, f.old, f.new) for f in changed.fields] == [
        ("Value", "11", "99"),
        ("Quote", "It shot down 11 drones.", "It shot down 99 drones."),
    ]
    assert changes.since == dt.date(2024, 6, 13)
    assert changes.summary == (
        "1 new figure, 1 new timeline event, 1 reaction removed, 1 figure changed, "
        "1 demand withdrawn, 1 judgment revised"
    )


def test_an_unchanged_workbook_has_no_changes(tmp_path: Path) -> None:
    old, _ = dossiers(tmp_path)
    changes = compare_dossiers(old, old, DAY)
    assert changes.records == ()
    assert changes.summary == "no record added, removed or changed"


def test_a_new_reaction_is_new_even_when_dated_outside_the_window(tmp_path: Path) -> None:
    old, _ = dossiers(tmp_path)
    records = {sheet: list(rows) for sheet, rows in RECORDS.items()}
    records["Reactions"] = [*records["Reactions"], reaction("R9", "2024-06-01")]
    new = load_dossier(write(tmp_path / "more.xlsx", records, "2024-06-14"))
    assert [(c.kind, c.record_id) for c in compare_dossiers(old, new, DAY).records] == [
        ("new", "R9")
    ]


def test_build_since_says_what_changed_in_the_memo_and_the_email(
    runner: CliRunner, tmp_path: Path
) -> None:
    old = write(tmp_path / "old.xlsx", RECORDS, "2024-06-13")
    new = write(tmp_path / "new.xlsx", later_records(), "2024-06-14")
    out = tmp_path / "memo.docx"
    result = runner.invoke(app, ["build", str(new), "-o", str(out), "--since", str(old), "--email"])
    assert result.exit_code == 0, result.output
    lines = memo_text(out).splitlines()
    start = lines.index("3. What changed since 13 June 2024")
    # The body lists what changed in records the reader knew; new ones are counted, and
    # printed in their annexes.
    assert lines[start + 1 : start + 6] == [
        "1 new figure, 1 new timeline event, 1 reaction removed, 1 figure changed, 1 demand "
        "withdrawn, 1 judgment revised.",
        # D1 and R2 are in no annex of this edition: no ID a reader could not follow.
        "Demand withdrawn on 14 June 2024: Demand D1",
        "Reaction removed: Official R2, Rejected it.",
        "Figure F1 changed: Value 11 → 99; Quote It shot down 11 drones. → It shot down 99 drones.",
        "Judgment J3 revised: Judgment J3 (As of 2 June 2024 → 14 June 2024; Likelihood likely "
        "→ very likely)",
    ]
    assert lines[start + 6].endswith("Diplomacy in brief")
    message = email.message_from_bytes((tmp_path / "memo.eml").read_bytes(), policy=policy.default)
    assert isinstance(message, email.message.EmailMessage)
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    assert (
        "What changed since 13 June 2024: 1 new figure, 1 new timeline event" in body.get_content()
    )


def test_since_with_errors_of_its_own_is_one_line(runner: CliRunner, tmp_path: Path) -> None:
    old = write(tmp_path / "old.xlsx", RECORDS, "2024-06-13")
    set_cells(old, {cell("Figures", "Value", 2): "many", cell("Figures", "Value", 3): "few"})
    new = write(tmp_path / "new.xlsx", RECORDS, "2024-06-14")
    result = runner.invoke(
        app, ["build", str(new), "-o", str(tmp_path / "m.docx"), "--since", str(old)]
    )
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: {old}: the earlier workbook given to --since has 2 errors; "
        f"'briefing check {old}' lists them\n"
    )
