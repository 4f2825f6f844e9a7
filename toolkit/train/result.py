"""What a training returns: ``TrainResult`` and its curve's ``EvalPoint``s.

A module of its own so that the stage (``training``) and its view (``view``), which
``training`` calls to write TRAINING.md, both import it without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit.io.exports import ExportVersion
from toolkit.metrics.spans import few_articles_note
from toolkit.records import ModelInfo


@dataclass(frozen=True)
class EvalPoint:
    """One validation of the training curve."""

    epoch: int
    step: int
    loss: float
    f1: float
    seconds: float
    best: bool


@dataclass
class TrainResult:
    out: Path
    model: ModelInfo  # the trained model's name and version (the prediction set's name)
    base: ModelInfo | None  # None: from blank
    start: str  # "warm start" | "same-name rows" | "blank"
    export: ExportVersion
    train_rows: int
    validation_rows: int
    words: int
    seed: int
    curve: list[EvalPoint] = field(default_factory=list)
    scores: dict[str, Any] = field(default_factory=dict)  # validation scores of the best checkpoint
    copied_rows: int = 0
    seconds: float = 0.0
    replaced: bool = False  # an earlier model of ours was at the output
    kept: list[str] = field(default_factory=list)  # files a user put beside that model, carried over
    settings: dict[str, Any] = field(default_factory=dict)  # the train.* settings the model was trained with
    validation_spans: int = 0  # the human spans the validation F1 is computed on
    calibration_id: str | None = None  # the span-score calibration saved beside the model (None: raw beam scores)

    @property
    def small_validation_note(self) -> str | None:
        """A warning when the validation F1 rests on few articles."""
        return few_articles_note(self.validation_rows, self.validation_spans, "the validation F1")

    @property
    def best(self) -> EvalPoint | None:
        best = [point for point in self.curve if point.best]
        return best[-1] if best else None

    @property
    def epochs_run(self) -> int:
        return max((point.epoch for point in self.curve), default=0) + 1

    @property
    def words_per_second(self) -> float:
        return self.words * self.epochs_run / self.seconds if self.seconds else 0.0
