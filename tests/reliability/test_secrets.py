"""The API key never leaks: every command runs with a recognisable key (the canary),
then all output, logs, configs and written files are searched for it.

The spare server's admin token is the canary (``conftest.CANARY``): a real key that
the real server accepts, so the commands do their real work with it.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from tests.reliability import tally
from tests.reliability.conftest import CANARY, ROOT, run, title_of, write_config
from tests.reliability.data import annotate_all, read_jsonl
from tests.reliability.proxy import Fault, FaultProxy
from toolkit.labelstudio import localserver

pytestmark = pytest.mark.integration


def _files(folder: Path, skip: set[str]) -> list[Path]:
    return [
        path for path in folder.rglob("*") if path.is_file() and not skip.intersection(path.relative_to(folder).parts)
    ]


def test_the_api_key_appears_in_no_output_log_config_or_file(spare, server, tmp_path):
    assert spare.key == CANARY
    work = tmp_path / "work"
    work.mkdir()
    config = write_config(work / "config.yaml")
    outputs = []

    def command(*args: str, expect: int = 0, **kwargs: object) -> None:
        done = run(*args, cwd=work, expect=expect, **kwargs)
        outputs.append((args, done.stdout + done.stderr))

    env = {"url": spare.url, "key": CANARY}
    command("preannotate", str(ROOT / "samples"), "--config", str(config), "--out", "predictions.jsonl", **env)
    command("push", "predictions.jsonl", "--config", str(config), **env)
    client = spare.client()
    project = next(p for p in client.projects.list() if p.title == title_of(config))
    annotate_all(client, project.id)
    command("pull", "--config", str(config), "--out", "annotations.jsonl", **env)
    assert len(read_jsonl(work / "annotations.jsonl")) == 7  # every sample article, annotated
    command("export", "annotations.jsonl", "--config", str(config), "--out", "dataset", **env)
    command("--debug", "push", "predictions.jsonl", "--config", str(config), **env)

    # Failures, with and without --debug: messages and tracebacks carry no key.
    missing = write_config(work / "missing.yaml", title="no such project, canary test")
    command("pull", "--config", str(missing), "--out", "none.jsonl", expect=1, **env)
    command("--debug", "pull", "--config", str(missing), "--out", "none.jsonl", expect=1, **env)
    with FaultProxy(spare.url, lambda request: Fault("fail_after")) as proxy:
        command("pull", "--config", str(config), "--out", "none.jsonl", expect=1, url=proxy.url, key=CANARY)
    command("pull", "--config", str(config), "--out", "none.jsonl", expect=1, url=spare.url, key=CANARY + "x")

    # The key from a .env file, and from the local server's credentials file.
    dotenv = work / "dotenv"
    dotenv.mkdir()
    (dotenv / ".env").write_text(f"LABEL_STUDIO_URL={spare.url}\nLABEL_STUDIO_API_KEY={CANARY}\n")
    done = run("pull", "--config", str(config), "--out", "annotations.jsonl", cwd=dotenv)
    outputs.append((("pull", ".env"), done.stdout + done.stderr))
    local = work / "local"
    local.mkdir()
    (local / ".labelstudio").symlink_to(spare.home, target_is_directory=True)
    done = run("pull", "--config", str(config), "--out", "annotations.jsonl", cwd=local)
    assert "local server" in done.stdout
    outputs.append((("pull", "local"), done.stdout + done.stderr))
    for args in (["up"], ["status"], ["status", "--json"]):
        done = run("labelstudio", *args, "--home", str(spare.home), cwd=work, key=CANARY)
        outputs.append((("labelstudio", *args), done.stdout + done.stderr))

    for args, output in outputs:
        assert CANARY not in output, f"the key is in the output of {' '.join(args)}"
    # Every file the commands wrote or read: predictions, pulls, ledgers, state, the
    # dataset, configs. Not the two files the user put the key in on purpose.
    searched = _files(work, skip={".env", ".labelstudio"})
    assert any(path.suffix == ".arrow" for path in searched) and any(path.name == "config.yaml" for path in searched)
    for path in searched:
        assert CANARY.encode() not in path.read_bytes(), f"the key is in {path.relative_to(work)}"
    log = spare.home / "server.log"
    assert CANARY not in log.read_text(errors="replace"), "the key is in the server's log"
    # Secrets reach the server through its environment, not its command line (readable in ps).
    pid = int((spare.home / "server.pid").read_text())
    assert CANARY.encode() not in Path(f"/proc/{pid}/cmdline").read_bytes()
    tally.add("secret_checks", len(outputs) + len(searched) + 2)


def test_local_servers_listen_on_loopback_only_with_private_credentials(spare, server):
    checked = 0
    homes = [spare.home]
    test_home = Path(os.environ.get("TOOLKIT_TEST_LABEL_STUDIO_HOME", ROOT / ".labelstudio" / "test-server"))
    credentials = localserver.read_credentials(test_home)
    if credentials is not None and credentials.url == server.url:
        homes.append(test_home)
    for home in homes:
        credentials = localserver.read_credentials(home)
        assert localserver.listening_addresses(credentials.port) == {"127.0.0.1"}, home
        assert stat.S_IMODE((home / "credentials.json").stat().st_mode) == 0o600, home
        assert json.loads((home / "credentials.json").read_text())["api_key"] == credentials.api_key.get_secret_value()
        checked += 1
    tally.add("secret_checks", checked * 2)
