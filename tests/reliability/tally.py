"""Totals of the reliability suite, printed as one line at the end of the run.

A test adds to a total only after its assertions passed: a fault counts as survived
when the command failed cleanly (or recovered) and the outcome after the rerun was
exact; a bad input counts as tried when it got its expected message and exit code (or
its counted skip); spans lost are spans that went in and did not come out.
"""

from __future__ import annotations

from collections import Counter

totals: Counter[str] = Counter()
_touched = False


def add(name: str, count: int = 1) -> None:
    global _touched
    _touched = True
    totals[name] += count


def touched() -> bool:
    return _touched


def summary_line() -> str:
    return (
        f"Reliability: {totals['faults']} faults survived, "
        f"{totals['bad_inputs']} bad inputs tried ({totals['bad_input_errors']} clear errors, "
        f"{totals['bad_input_skips']} counted skips, {totals['bad_input_read']} read correctly), "
        f"{totals['spans_checked']} spans checked, {totals['spans_lost']} spans lost, "
        f"{totals['secret_checks']} outputs, files and settings searched for the API key"
    )
