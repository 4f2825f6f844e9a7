"""What ``toolkit labelstudio up|down|status`` say (``toolkit.labelstudio.view``), without a server."""

from __future__ import annotations

import io
import json
from pathlib import Path

from pydantic import SecretStr
from rich.console import Console
from typer.testing import CliRunner

from toolkit.cli import app
from toolkit.labelstudio import view
from toolkit.labelstudio.localserver import Credentials, ServerStatus
from toolkit.render.console import print_document, print_sections


def shown(draw) -> str:
    console = Console(file=io.StringIO(), width=400, highlight=False, markup=False)
    draw(console)
    return console.file.getvalue()


def test_a_home_without_a_server_is_not_running_exit_3_also_as_json(tmp_path):
    home = tmp_path / "home"
    plain = CliRunner().invoke(app, ["labelstudio", "status", "--home", str(home)])
    assert plain.exit_code == 3, plain.output
    assert plain.output == f"Label Studio is not running (home {home}); start it with `toolkit labelstudio up`\n"
    as_json = CliRunner().invoke(app, ["labelstudio", "status", "--home", str(home), "--json"])
    assert as_json.exit_code == 3, as_json.output
    assert json.loads(as_json.output) == {
        "running": False,
        "url": None,
        "pid": None,
        "version": None,
        "home": str(home),
        "username": None,
    }


def test_down_without_a_server_says_so(tmp_path):
    result = CliRunner().invoke(app, ["labelstudio", "down", "--home", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert result.output == "Label Studio was not running\n"
    assert shown(lambda console: print_sections(console, [view.stopped(True)], rules=False)) == "Label Studio stopped\n"


def test_up_and_a_running_status_name_the_login_and_where_the_password_is_never_a_secret():
    home = Path("/srv/ls")
    credentials = Credentials("http://127.0.0.1:8093", "admin@x", SecretStr("pw-secret"), SecretStr("key-secret"))
    up = shown(lambda console: print_document(console, view.started(credentials, home / "credentials.json")))
    assert up.splitlines() == [
        "Label Studio is up at http://127.0.0.1:8093",
        "  log in as admin@x; the password is in /srv/ls/credentials.json",
    ]
    running = ServerStatus(True, credentials.url, 42, None, home, "admin@x")
    said = shown(lambda console: print_sections(console, [view.server_status(running)], rules=False))
    assert said.splitlines() == [
        "Label Studio is running at http://127.0.0.1:8093 (pid 42)",  # no version: no double space
        "  annotators log in at http://127.0.0.1:8093/user/login/ as admin@x",
        "  the password is in /srv/ls/credentials.json",
    ]
    assert "secret" not in up + said + json.dumps(running.to_json())


class _Install:
    phase, done, elapsed = "install", 1, 61.5


def test_the_install_progress_line():
    assert view.install_progress(_Install()) == "Installing Label Studio: 1 package collected (1:01)"
