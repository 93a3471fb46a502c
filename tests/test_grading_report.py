"""The instructor's class report: a sortable table of students whose links open each one's full feedback page.

Built from stored outcomes by ``python -m grading report`` (as after a class graded in shards),
so it runs in seconds; the hostile class (make test-long) checks the same page after a real run.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from browser_harness import axe_violations, blocking, chromium, record_axe, screenshot

from grading import cli, store
from grading.checks import load_checks
from grading.results import CheckResult, Outcome, PartResult, status_of
from grading.submissions import Submission

# submission -> the exercises it passed (of assignment_06's nine), its status
CLASS = {
    "ada.ipynb": (range(1, 10), "ok"),
    "bo.ipynb": (range(1, 6), "ok"),
    "cy.ipynb": ((), "timeout"),
    "dee.ipynb": ((1, 2, 3, 7), "kernel_died"),
}


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("graded")
    checks = load_checks("assignment_06")
    for name, (passed, status) in CLASS.items():
        submission = Submission(out / "class" / name, name, name.removesuffix(".ipynb"))
        results = {
            f"ex{n}": CheckResult(True, message="passed")
            if n in passed
            else CheckResult(False, part="shape", message=f"ex{n}: expected [200, 2], got [2, 200]", hint="transpose")
            for n in range(1, 10)
        }
        notes = ["Ran past the time limit"] if status == "timeout" else []
        outcome = Outcome(submission, status, results, notes, errors=[], seconds=3.0 + len(passed))
        store.save(out, outcome, key="stored by the test", assignment=checks.assignment)
    assert cli.main(["report", str(out)]) == 0
    return out


def students_in(html: str) -> list[dict[str, str]]:
    body = html.split('id="students"', 1)[1].split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)
    return [
        {"href": re.search(r'href="([^"]+)"', row).group(1), "cells": re.findall(r"<td[^>]*>(.*?)</td>", row)}
        for row in rows
    ]


def test_the_table_has_each_student_with_points_total_status_and_a_feedback_link(report):
    html = (report / "report.html").read_text()
    students = students_in(html)
    with open(report / "grades.csv", newline="") as sheet:
        sheet_rows = list(csv.DictReader(sheet))
    assert len(students) == len(CLASS) == len(sheet_rows)
    for student, row in zip(students, sheet_rows, strict=True):
        points = [re.sub(r"<[^>]+>", "", cell) for cell in student["cells"]]
        assert points[0] == row["submission"]
        assert points[1:] == [row[f"ex{n}"] for n in range(1, 10)] + [row["total"], row["status"]]
        feedback = report / student["href"]
        assert feedback.is_file(), f"{student['href']} does not resolve"
        page = feedback.read_text()
        assert f"Score: {row['total']}/9" in page and "the class report" in page
        assert feedback.with_suffix(".md").is_file()  # the Markdown stays beside the page


def test_a_feedback_page_says_what_the_markdown_says(report):
    page = (report / "instructor" / "bo.html").read_text()
    markdown = (report / "instructor" / "bo.md").read_text()
    assert "**Score: 5/9** (status: `ok`)" in markdown and "<strong>Score: 5/9</strong>" in page
    for n in range(6, 10):
        failure = f"shape: ex{n}: expected [200, 2], got [2, 200]"
        assert failure in markdown and failure in page
    assert page.count('class="failed"') == 4 and page.count('class="passed"') == 5


@pytest.mark.slow
def test_the_table_sorts_in_the_browser_and_every_page_passes_axe(report, tmp_path):
    with chromium(tmp_path / "profile") as browser:
        page = browser.new_page()
        page.goto((report / "report.html").as_uri())
        totals = "() => [...document.querySelectorAll('#students tbody tr')].map(r => r.cells[10].textContent)"
        assert page.evaluate(totals) == ["9", "5", "0", "4"]  # as graded: in the order of the submissions
        page.get_by_role("button", name="total").click()
        assert page.evaluate(totals) == ["0", "4", "5", "9"]
        page.get_by_role("button", name="total").click()
        assert page.evaluate(totals) == ["9", "5", "4", "0"]
        screenshot(page, "class_report_table", full_page=True)
        violations = axe_violations(page)
        record_axe("report.html", violations)
        assert blocking(violations) == [], violations
        page.get_by_role("link", name="dee.ipynb").click()
        assert page.url.endswith("/instructor/dee.html") and "Score: 4/9" in page.inner_text("body")
        violations = axe_violations(page)
        record_axe("instructor/dee.html", violations)
        assert blocking(violations) == [], violations


def test_report_refuses_a_folder_with_no_results_and_one_with_two_assignments(tmp_path, capsys):
    assert cli.main(["report", str(tmp_path)]) == 2
    assert "holds no graded results" in capsys.readouterr().err
    for assignment in ("assignment_06", "exercises_02"):
        submission = Submission(tmp_path / f"{assignment}.ipynb", assignment, assignment)
        outcome = Outcome(submission, "ok", {}, [], errors=[], seconds=1.0)
        store.save(tmp_path, outcome, key="stored by the test", assignment=assignment)
    assert cli.main(["report", str(tmp_path)]) == 2
    assert "results of several assignments: assignment_06, exercises_02" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["grade", "assignment_99", "x.ipynb", "--out", "o"], "unknown assignment 'assignment_99'"),
        (["grade", "assignment_06", "no_such_folder", "--out", "o", "--jobs", "0"], "--jobs must be at least 1"),
        (["grade", "assignment_06", "no_such_folder", "--out", "o"], "no_such_folder"),
    ],
)
def test_the_command_line_says_what_is_wrong_with_its_arguments(tmp_path, monkeypatch, capsys, arguments, message):
    monkeypatch.chdir(tmp_path)
    assert cli.main(arguments) == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("parse", "text", "message"),
    [
        (cli.parse_size, "lots", "expected a size such as 4G or 512M"),
        (cli.parse_shard, "3/2", "expected K/N with 1 <= K <= N"),
        (cli._seconds, "-5", "expected a positive number of seconds"),
    ],
)
def test_bad_sizes_shards_and_seconds_are_refused_with_an_example(parse, text, message):
    with pytest.raises(cli.argparse.ArgumentTypeError, match=message):
        parse(text)
    assert cli.parse_size("6G") == 6 * 2**30 and cli.parse_shard("2/5") == (2, 5) and cli._seconds("1.5") == 1.5


def test_a_model_that_could_not_be_judged_is_marked_apart_from_failed_and_listed_for_a_person(tmp_path):
    checks = load_checks("assignment_06")
    why = "your model could not be judged outside your notebook: line 9 of forward (`if h.mean() > 0:`) decides"
    unjudged = PartResult("", False, "judging your model", why, "rewrite the line", unjudgeable=True)
    results = {f"ex{n}": CheckResult(True, message="passed") for n in range(1, 10)}
    results["ex3"] = CheckResult(False, "judging your model", why, "rewrite the line", (unjudged,), unjudgeable=True)
    submission = Submission(tmp_path / "class" / "eve.ipynb", "eve.ipynb", "eve")
    outcome = Outcome(submission, status_of({}, results), results, [], errors=[], seconds=2.0)
    assert outcome.status == "could not be judged: ex3"
    store.save(tmp_path, outcome, key="stored by the test", assignment=checks.assignment)
    assert cli.main(["report", str(tmp_path)]) == 0
    html = (tmp_path / "report.html").read_text()
    listed = html.split("Could not be judged: for a person to look at", 1)[1].split("<h2>", 1)[0]
    assert "eve.ipynb" in listed and "ex3" in listed and "if h.mean() &gt; 0:" in listed
    feedback = (tmp_path / "feedback" / "eve.md").read_text()
    assert "| ex3 | 0/1 | not judged |" in feedback and why in feedback
    assert "Could not be judged" in (tmp_path / "feedback" / "eve.json").read_text()
    (row,) = csv.DictReader((tmp_path / "grades.csv").open())
    assert row["status"] == "could not be judged: ex3" and row["ex3"] == "0"
    stored = store.load_all(tmp_path)[1][0]
    assert stored.results["ex3"].unjudgeable and stored.unjudged == {"ex3": why}
