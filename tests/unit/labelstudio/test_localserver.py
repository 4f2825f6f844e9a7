from __future__ import annotations

import os
import socket
import stat

import pytest
from pydantic import SecretStr

from toolkit.errors import LocalServerError
from toolkit.labelstudio import localserver
from toolkit.labelstudio.localserver import Credentials, server_environment

CREDENTIALS = Credentials(
    url="http://127.0.0.1:8123",
    username="admin@localhost.localdomain",
    password=SecretStr("pw-secret-value"),
    api_key=SecretStr("key-secret-value"),
)


def test_secrets_never_show_in_repr():
    shown = repr(CREDENTIALS) + str(CREDENTIALS)
    assert "pw-secret-value" not in shown and "key-secret-value" not in shown


def test_credentials_file_is_0600_and_round_trips(tmp_path):
    localserver._write_credentials(tmp_path, CREDENTIALS)
    path = tmp_path / "credentials.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert localserver.read_credentials(tmp_path) == CREDENTIALS
    assert CREDENTIALS.port == 8123


def test_unreadable_credentials_say_what_to_do(tmp_path):
    (tmp_path / "credentials.json").write_text("{not json")
    with pytest.raises(LocalServerError, match="unreadable credentials file"):
        localserver.read_credentials(tmp_path)


def test_server_environment_scrubs_leaky_variables(tmp_path):
    base = {
        "PATH": "/bin",
        "HOST": "0.0.0.0",
        "PORT": "80",
        "USERNAME": "x",
        "PASSWORD": "y",
        "LABEL_STUDIO_URL": "http://elsewhere",
        "LABEL_STUDIO_API_KEY": "other",
        "HEARTEX_HOST": "h",
    }
    env = server_environment(base, home=tmp_path, credentials=CREDENTIALS)
    for name in ("HOST", "PORT", "USERNAME", "PASSWORD", "LABEL_STUDIO_URL", "LABEL_STUDIO_API_KEY", "HEARTEX_HOST"):
        assert name not in env
    assert env["PATH"] == "/bin"
    assert env["LABEL_STUDIO_COLLECT_ANALYTICS"] == "false"
    assert env["LABEL_STUDIO_LATEST_VERSION_CHECK"] == "false"
    assert env["LABEL_STUDIO_SENTRY_DSN"] == "" and env["LABEL_STUDIO_FRONTEND_SENTRY_DSN"] == ""
    assert env["LABEL_STUDIO_USER_TOKEN"] == "key-secret-value"


def test_stale_pid_file_means_not_running(tmp_path):
    (tmp_path / "server.pid").write_text("999999999")
    assert localserver.down(home=tmp_path) is False
    assert not (tmp_path / "server.pid").exists()
    assert localserver.status(home=tmp_path).running is False


def test_port_in_use_is_refused_with_a_hint(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        events = []
        with pytest.raises(LocalServerError) as raised:
            localserver.up(home=tmp_path, port=port, venv=tmp_path / "no-venv", on_progress=events.append)
    assert f"port {port}" in str(raised.value) and "--port" in raised.value.hint
    assert [event.note for event in events] == ["Starting Label Studio"]  # each step is a note for the CLI


def test_listening_addresses_sees_a_loopback_listener():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        assert localserver.listening_addresses(server.getsockname()[1]) == {"127.0.0.1"}


def test_scrub_hides_secrets_in_log_tails(tmp_path):
    (tmp_path / "server.log").write_text("token key-secret-value and pw-secret-value\n")
    tail = localserver._log_tail(tmp_path, CREDENTIALS)
    assert "secret-value" not in tail and tail.count("**********") == 2


@pytest.mark.skipif(not os.path.exists("/proc/net/tcp"), reason="needs Linux /proc")
def test_proc_parsing_handles_ipv6():
    with socket.socket(socket.AF_INET6) as server:
        server.bind(("::1", 0))
        server.listen()
        assert localserver.listening_addresses(server.getsockname()[1]) == {"::1"}


def _fake_venv(tmp_path, *, restores_on_force=False):
    """A Label Studio virtualenv an interrupted install left: a ``bin/python`` (a symlink, so
    that ``python -m venv`` over it keeps it) that installs nothing, and no ``bin/label-studio``.
    Its calls are logged; with ``restores_on_force`` a ``--force-reinstall`` writes the executable."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    log = tmp_path / "calls.log"
    fake = tmp_path / "fake-python"
    restore = (
        f'printf "#!/bin/sh\\nexit 0\\n" > {venv}/bin/label-studio; chmod +x {venv}/bin/label-studio'
        if restores_on_force
        else ":"
    )
    fake.write_text(
        "#!/bin/sh\n"
        f'echo "$*" >> {log}\n'
        'case "$*" in\n'
        f"  *--force-reinstall*) {restore};;\n"
        '  *"pip install"*) echo "Collecting label-studio==1.23.2"; echo "Collecting django"; '
        'echo "Installing collected packages: django, label-studio";;\n'
        "esac\n"
        "exit 0\n"
    )
    fake.chmod(0o755)
    (venv / "bin" / "python").symlink_to(fake)
    return venv, log


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_up_over_an_interrupted_install_is_one_line_naming_the_folder_not_a_traceback(tmp_path):
    from typer.testing import CliRunner

    from toolkit.cli import app

    venv, log = _fake_venv(tmp_path)
    home = tmp_path / "home"
    result = CliRunner().invoke(
        app,
        ["labelstudio", "up", "--home", str(home), "--port", str(_free_port())],
        env={"TOOLKIT_LABEL_STUDIO_VENV": str(venv), "TOOLKIT_DEBUG": ""},
    )
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output and "FileNotFoundError" not in result.output
    assert f"{venv} has no bin/label-studio after installing Label Studio" in result.output
    assert f"hint: remove {venv} and run `toolkit labelstudio up" in result.output
    # It tried to install again (the missing executable is an interrupted install), and said so
    # on piped output, where no progress bar is drawn.
    assert "pip install" in log.read_text()
    assert "has no bin/label-studio (an interrupted install?): installing Label Studio" in result.output
    assert "Installing Label Studio: 1 package collected (0:" in result.output  # then progress, as lines
    assert "Installing Label Studio: unpacking 2 packages" in result.output
    assert not (home / "server.pid").exists()


def test_an_interrupted_install_is_completed_and_its_progress_reported(tmp_path):
    venv, log = _fake_venv(tmp_path, restores_on_force=True)
    events = []
    localserver.install(venv, on_progress=events.append)
    assert (venv / "bin" / "label-studio").exists()
    calls = log.read_text()
    assert "--force-reinstall --no-deps label-studio==" in calls  # the entry point pip skipped as "satisfied"
    assert sum(event.advance for event in events if event.phase == "install") == 2  # two packages collected
    assert any(event.note and "unpacking 2 packages" in event.note for event in events)


def test_an_install_made_with_other_pins_is_brought_to_the_toolkits_and_then_left_alone(tmp_path):
    """A complete install from before the Django pin (Django 5.2.20 leaves annotation counters at 0)
    gets the pinned packages once; the marker then says it is done."""
    venv, log = _fake_venv(tmp_path)
    (venv / "bin" / "label-studio").write_text("#!/bin/sh\nexit 0\n")
    events = []
    localserver.install(venv, on_progress=events.append)
    calls = log.read_text()
    assert f"pip install --progress-bar off label-studio=={localserver.LABEL_STUDIO_VERSION} Django==" in calls
    assert "--force-reinstall" not in calls  # the executable is there: nothing to restore
    assert (venv / localserver.INSTALL_MARKER).read_text().strip() == localserver.INSTALL_SPEC
    assert any(event.note and "over the Label Studio install there" in event.note for event in events)
    log.write_text("")
    localserver.install(venv)
    assert log.read_text() == ""
