"""Train's view on a result made by hand (no training): what `toolkit train` prints and TRAINING.md."""

from __future__ import annotations

import io
from pathlib import Path

from toolkit.io.exports import ExportVersion
from toolkit.records import ModelInfo
from toolkit.render.console import print_document, print_sections
from toolkit.render.markdown import markdown_document
from toolkit.render.terminal import SafeConsole
from toolkit.train import TrainResult, view
from toolkit.train.result import EvalPoint

SETTINGS = {
    "max_epochs": 3,
    "patience_epochs": 1,
    "dropout": 0.1,
    "learning_rate": 0.001,
    "batch_words": 1000,
    "batch_start": None,
    "warmup_steps": 0,
    "average_weights": False,
    "evals_per_epoch": 1,
    "warm_start": False,
}


def result(**changes) -> TrainResult:
    export = ExportVersion(Path("exports/news/v2"), {"name": "news", "version": "v2"}, "ab" * 32)
    made = TrainResult(
        out=Path("models/news"),
        model=ModelInfo(name="en_news", version="3.8.0+0123456789ab"),
        base=ModelInfo(name="en_core_web_sm", version="3.8.0"),
        start="same-name rows",
        export=export,
        train_rows=1,
        validation_rows=30,
        words=2000,
        seed=7,
        curve=[EvalPoint(0, 10, 12.5, 0.5, 1.0, True), EvalPoint(1, 20, 8.25, 0.4, 2.0, False)],
        scores={
            "f1": 0.5,
            "precision": 0.6,
            "recall": 0.4286,
            "per_label": {"PERSON": {"p": 0.6, "r": 0.4286, "f": 0.5}, "GPE": {"p": 1.0, "r": 0.0, "f": 0.0}},
        },
        copied_rows=1,
        seconds=4.0,
        settings=SETTINGS,
        validation_spans=1,
    )
    for name, value in changes.items():
        setattr(made, name, value)
    return made


def printed(made: TrainResult) -> str:
    console = SafeConsole(file=io.StringIO(), highlight=False, markup=False, soft_wrap=True, width=200)
    print_document(console, view.summary(made))
    print_sections(console, [view.written(made, export=Path("exports/news"), config=Path("c.yaml"))], rules=False)
    return console.file.getvalue()


def test_the_console_says_every_fact_with_plurals_and_the_next_commands():
    assert printed(result()).splitlines() == [
        "Trained on 1 article of exports/news/v2, from en_core_web_sm 3.8.0, seed 7",
        "  start: same-name rows (labels the base predicts under the same name begin from its weights)",
        "  2 epochs in 4.0 s (1,000 words/s); best validation F1 0.500 at epoch 1, on 30 articles (1 span)",
        "    GPE: P 1.000 R 0.000 F1 0.000",
        "    PERSON: P 0.600 R 0.429 F1 0.500",
        # 30 articles but 1 span: too few spans to go on.
        "  Note: the validation F1 rests on only 30 articles (1 span): below 20 articles or 200 spans it is a "
        "rough figure, not a measurement to compare models by.",
        "Wrote models/news (model version en_news-3.8.0+0123456789ab; TRAINING.md beside it)",
        "Next: toolkit evaluate base models/news --data exports/news --config c.yaml, "
        "then toolkit preannotate INPUT --model models/news --config c.yaml",
    ]


def test_a_replaced_model_names_the_files_kept_and_few_articles_get_a_note():
    lines = printed(result(replaced=True, kept=["notes.txt", "eval.html"], validation_rows=3, base=None, start="blank"))
    assert "from blank, seed 7" in lines and "  start: blank (every weight begins at random)\n" in lines
    assert "  Note: the validation F1 rests on only 3 articles (1 span): below 20 articles" in lines
    assert "Replaced models/news (model version" in lines
    assert "  kept the other files in it: notes.txt, eval.html\n" in lines


def test_training_md_counts_in_words_and_shows_the_curve_and_scores():
    text = markdown_document(view.training_file(result()))
    assert text.startswith("# en_news-3.8.0+0123456789ab\n")
    assert "- train: 1 human-annotated article (2,000 tokens); validation: 30" in text
    assert "- base: en_core_web_sm 3.8.0 (same-name rows; 1 output row taken from the base)" in text
    assert "- seed 7; 2 epochs run (2 validations); best at epoch 1" in text
    # Was "1 validation(s) per epoch, patience 1 epochs".
    assert "batches of 1000 words, 1 validation per epoch, patience 1 epoch, weight averaging off" in text
    assert "| 1 | 12.50 | 0.500 (best) |" in text and "| 2 | 8.25 | 0.400 |" in text
    assert "| **micro** | 0.600 | 0.429 | 0.500 |" in text
