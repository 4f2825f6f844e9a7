"""The small typed records that flow one way through the loop.

articles -> predicted articles (pre-annotate) -> Label Studio tasks (push)
-> annotated articles (pull) -> dataset rows (export)

Each record is written as one JSON object per line. Offsets are Python ``str``
indices (Unicode code points), end exclusive: the unit spaCy and Label Studio use.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Record(BaseModel):
    # Later versions may add fields; older readers ignore what they do not know.
    model_config = ConfigDict(extra="ignore", frozen=True)

    def to_json_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


class Span(_Record):
    start: int = Field(ge=0)
    end: int = Field(ge=1)
    label: str = Field(min_length=1)
    text: str | None = None

    @model_validator(mode="after")
    def _start_before_end(self) -> Span:
        if self.start >= self.end:
            raise ValueError(f"span start {self.start} is not before end {self.end}")
        return self

    @property
    def key(self) -> tuple[int, int, str]:
        return (self.start, self.end, self.label)


class Article(_Record):
    """One news article: the normalised text that is pushed, pulled and exported."""

    id: str = Field(min_length=1)
    text: str = Field(min_length=1)
    title: str | None = None
    date: str | None = None
    source: str | None = None


class ModelInfo(_Record):
    name: str
    version: str

    @property
    def model_version(self) -> str:
        """The prediction set's name in Label Studio."""
        return f"{self.name}-{self.version}"


class PredictedArticle(Article):
    """An article with the spans the model predicted."""

    model: ModelInfo
    spans: list[Span]


class AnnotationInfo(_Record):
    """Which human decision the spans of an annotated article come from."""

    id: int
    annotator: str
    created_at: str | None = None
    updated_at: str | None = None
    lead_time: float | None = None


class AnnotatedArticle(Article):
    """An article with the spans a human settled on in Label Studio."""

    task_id: int
    spans: list[Span]
    annotation: AnnotationInfo
    model_version: str | None = None
    predicted_spans: list[Span] = Field(default_factory=list)
