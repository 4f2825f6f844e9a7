"""Drawing the report (console through `toolkit report`, markdown, HTML) from the one table model."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from tests.unit.report.articles import TEXT_A, article, build, span
from toolkit.cli import app
from toolkit.records import ledger_path
from toolkit.report import report, report_markdown

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args), env={"TOOLKIT_DEBUG": ""})


def test_cli_prints_every_section(pulled):
    result = invoke("report", str(pulled))
    assert result.exit_code == 0, result.output
    for heading in ("Progress", "Model against human", "Agreement", "Per annotator"):
        assert heading in result.output
    assert "seqeval strict mode, IOB2 scheme" in result.output
    assert "Exact span match" in result.output  # a table title, capitalized as on the page
    assert "boundary fixed" in result.output and "33-39 LOC 'Berlin' -> 33-39 GPE 'Berlin'" in result.output


def test_cli_json_is_the_library_report(pulled, config):
    result = invoke("report", str(pulled), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    expected = report(pulled, config=config).model_dump(mode="json")
    assert data == expected
    assert data["model"]["edits"]["boundary fixed"] == 3


def test_cli_writes_the_html_page(pulled, tmp_path):
    page = tmp_path / "exports" / "news-ner" / "report.html"
    result = invoke("report", str(pulled), "--html", str(page))
    assert result.exit_code == 0, result.output
    assert f"Wrote the HTML report to {page}" in result.output
    html = page.read_text()
    assert html.startswith("<!doctype html>")
    for alt in ("label distribution", "edit types", "agreement per label"):
        assert f'<img alt="{alt}" src="data:image/png;base64,' in html
    assert "seqeval strict mode, IOB2 scheme" in html and "&#x27;Berlin&#x27;" in html


def test_cli_not_enough_data_is_said_plainly(tmp_path, config):
    source = tmp_path / "annotations.jsonl"
    source.write_text(
        article(1, TEXT_A, [{"annotator": "x", "spans": [span(TEXT_A, "Paris", "GPE")]}]).model_dump_json() + "\n"
    )
    page = tmp_path / "report.html"
    result = invoke("report", str(source), "--html", str(page))
    assert result.exit_code == 0, result.output
    assert "Not enough data: no annotated task carries a prediction" in result.output
    assert "Not enough data: no task was submitted by two or more annotators" in result.output
    assert "Not enough data" in page.read_text()


def test_cli_missing_and_broken_input(tmp_path):
    result = invoke("report", str(tmp_path / "none.jsonl"))
    assert result.exit_code == 1
    assert "none.jsonl: file not found" in result.output and "toolkit pull --out" in result.output
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"id": "a", "text": "x", "task_id": 1}\n')
    result = invoke("report", str(broken))
    assert result.exit_code == 1
    assert f"{broken}:1: not an annotated article record" in result.output
    assert "Traceback" not in result.output


def test_cli_broken_ledger_names_the_ledger_line(pulled):
    ledger_path(pulled).write_text(
        '{"kind": "task_not_annotated", "reason": "x", "task_id": 3}\n{"kind": "nonsense"}\n'
    )
    result = invoke("report", str(pulled), "--json")
    assert result.exit_code == 1
    assert f"{ledger_path(pulled)}:2: not a pull ledger record" in result.output


def test_help_lists_report_and_stays_light():
    import subprocess
    import sys

    result = invoke("--help")
    assert result.exit_code == 0 and "report" in result.output
    # `toolkit --help` must not import the report's heavy libraries.
    heavy = "('spacy', 'seqeval', 'matplotlib', 'krippendorff', 'toolkit.report.build')"
    code = f"import sys; from toolkit.cli import app; print(sorted(m for m in {heavy} if m in sys.modules))"
    assert (
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "[]"
    )


def test_cli_unwritable_html_fails_before_printing(pulled, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = invoke("report", str(pulled), "--json", "--html", str(blocker / "report.html"))
    assert result.exit_code == 1
    assert "report.html: cannot write" in result.output
    assert '"progress"' not in result.output  # no JSON printed before the failure


def test_markdown_carries_the_figures(corrected, overlapping, config):
    text = report_markdown(build(corrected + overlapping, config))
    assert "seqeval, mode=strict, scheme=IOB2" in text
    assert "accepted unchanged 1, boundary fixed 3, relabelled 1, deleted 1, added 1" in text
    assert "| **overall** | 2 | 0.571 |" in text  # agreement: 2 tasks, span F1 4/7


def test_every_medium_names_the_configured_alignment(corrected, overlapping, config):
    from toolkit.config import parse_config
    from toolkit.report.page import render_html

    data = config.model_dump(mode="json")
    data["export"] = {**data["export"], "alignment": "contract", "alignment_fallback": "none"}
    result = build(corrected + overlapping, parse_config(data))
    assert result.alignment.model_dump() == {"mode": "contract", "fallback": "none"}
    said = "Doc.char_span in contract mode, no fallback"
    assert said in report_markdown(result)
    assert said in render_html(result)

    from rich.console import Console

    from toolkit.render.console import print_document
    from toolkit.report import report_document

    console = Console(record=True, width=200, markup=False)
    print_document(console, report_document(result))
    assert said in console.export_text()
