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
