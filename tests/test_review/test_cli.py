"""`dlgrade review --export/--import` and `dlgrade export-grades`: thin wrappers over the stage functions."""
from __future__ import annotations

import csv
import io

from typer.testing import CliRunner


def test_review_csv_round_trip_and_export_grades_through_the_cli(graded, tmp_path):
    """Do the commands export the items, import a filled-in sheet (exit 1 and the row named when one is
    rejected) and write a Canvas file with the reviewed score?"""
    import dlgrade.cli.export_grades  # noqa: F401 - registers the commands
    import dlgrade.cli.review  # noqa: F401
    from dlgrade.cli import app

    course, out, _, _ = graded
    where = ["--out", str(out), "--course", str(course)]
    sheet = tmp_path / "r.csv"
    result = CliRunner().invoke(app, ["review", "tiny", *where, "--export", str(sheet)])
    assert result.exit_code == 0 and "2 item(s) to review" in result.output, result.output
    rows = list(csv.DictReader(io.StringIO(sheet.read_text())))
    rows[0]["score"], rows[1]["score"] = "full", "7"
    with sheet.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    result = CliRunner().invoke(app, ["review", "tiny", *where, "--import", str(sheet), "--reviewer", "lee"])
    assert result.exit_code == 1 and "1 review(s) imported" in result.output
    assert "row 3: score 7 is outside 0..2" in result.output
    roster = tmp_path / "roster.csv"
    roster.write_text("student_id,canvas_id\nann,201\n")
    result = CliRunner().invoke(app, ["export-grades", "tiny", *where, "--format", "canvas", "--roster", str(roster)])
    assert result.exit_code == 0, result.output
    lines = (out / "tiny" / "grades-canvas.csv").read_text().splitlines()
    assert lines[1] == "Points Possible,,,,,7" and lines[2].startswith("ann,201,,,,7")
