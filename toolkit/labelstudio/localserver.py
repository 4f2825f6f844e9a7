"""A local Label Studio server for this project: installed, started and stopped on demand.

Label Studio runs from its own virtualenv (its pinned dependencies never meet the
toolkit's), bound to 127.0.0.1, with telemetry, the PyPI version check and Sentry
turned off. An admin user and a legacy API token are generated on first start and
kept in ``<home>/credentials.json`` (mode 0600). Secrets go to the server through
its environment, never its command line (which any local user can read in ``ps``).

Layout of ``home`` (default ``.labelstudio/``, git-ignored)::

    venv/              Label Studio's virtualenv (or TOOLKIT_LABEL_STUDIO_VENV)
    data/              its database and files (LABEL_STUDIO_BASE_DATA_DIR)
    credentials.json   url, username, password, api_key (0600)
    server.log         the server's output
    server.pid         the running server's process id
"""

from __future__ import annotations

import errno
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from toolkit.errors import LocalServerError
from toolkit.progress import OnProgress, emit
from toolkit.render.format import plural

LABEL_STUDIO_VERSION = "1.23.2"
# Installed beside Label Studio, exactly. Label Studio 1.23.2 asks for Django >=5.2.16,<5.3, but
# under Django 5.2.20 a task's annotation counters stay 0 when an annotation is created
# (total_annotations, is_labeled): push then takes annotated tasks for unannotated ones and adds
# predictions to them, and the labeling stream serves them again. 5.2.16 counts them.
SERVER_PINS = ("Django==5.2.16",)
INSTALL_SPEC = " ".join((f"label-studio=={LABEL_STUDIO_VERSION}", *SERVER_PINS))
# In the venv: the INSTALL_SPEC it was installed with, so that a change of pins reinstalls.
INSTALL_MARKER = ".toolkit-install"
DEFAULT_HOME = Path(".labelstudio")
DEFAULT_PORT = 8080
HOST = "127.0.0.1"
USERNAME = "admin@localhost.localdomain"

# Label Studio reads LABEL_STUDIO_X, then HEARTEX_X, then bare X: a stray HOST, PORT,
# USERNAME or PASSWORD in the caller's environment would leak into the server.
_LEAKY_NAMES = ("HOST", "PORT", "USERNAME", "PASSWORD", "USER_TOKEN", "URL", "API_KEY", "DATA_DIR")


@dataclass(frozen=True)
class Credentials:
    url: str
    username: str
    password: SecretStr
    api_key: SecretStr

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])


@dataclass(frozen=True)
class ServerStatus:
    running: bool
    url: str | None
    pid: int | None
    version: str | None
    home: Path
    username: str | None = None  # who logs in (the password stays in the credentials file)

    @property
    def credentials_file(self) -> Path:
        return credentials_file(self.home)

    def to_json(self) -> dict[str, object]:
        """For scripts (``toolkit labelstudio status --json``): no secret."""
        return {
            "running": self.running,
            "url": self.url,
            "pid": self.pid,
            "version": self.version,
            "home": str(self.home),
            "username": self.username,
        }


def credentials_file(home: Path) -> Path:
    """Where the server's url, username, password and API key are kept (mode 0600)."""
    return home / "credentials.json"


def _paths(home: Path) -> dict[str, Path]:
    return {
        "credentials": credentials_file(home),
        "log": home / "server.log",
        "pid": home / "server.pid",
        "data": home / "data",
    }


def venv_path(home: Path, venv: Path | None = None) -> Path:
    if venv is not None:
        return venv
    configured = os.environ.get("TOOLKIT_LABEL_STUDIO_VENV")
    return Path(configured) if configured else home / "venv"


def read_credentials(home: Path = DEFAULT_HOME) -> Credentials | None:
    path = _paths(home)["credentials"]
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Credentials(
            url=data["url"],
            username=data["username"],
            password=SecretStr(data["password"]),
            api_key=SecretStr(data["api_key"]),
        )
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        raise LocalServerError(
            f"{path}: unreadable credentials file", hint=f"remove it and run `toolkit labelstudio up --home {home}`"
        ) from None


def _write_credentials(home: Path, credentials: Credentials) -> None:
    path = _paths(home)["credentials"]
    data = {
        "url": credentials.url,
        "username": credentials.username,
        "password": credentials.password.get_secret_value(),
        "api_key": credentials.api_key.get_secret_value(),
    }
    temporary = path.with_suffix(".tmp")
    temporary.unlink(missing_ok=True)
    # Created 0600 from the start: never readable by others, not even for a moment.
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2)
    os.replace(temporary, path)


def _health(url: str, timeout: float = 2) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=timeout) as response:
            return json.loads(response.read() or b"{}").get("status") == "UP"
    except (OSError, ValueError):
        return False


def is_up(credentials: Credentials, timeout: float = 2) -> bool:
    """Whether the server answers its health check."""
    return _health(credentials.url, timeout)


def _version(url: str) -> str | None:
    try:
        with urllib.request.urlopen(f"{url}/api/version", timeout=5) as response:
            data = json.loads(response.read())
            return data.get("release") or (data.get("label-studio-os-package") or {}).get("version")
    except (OSError, ValueError):
        return None


def _read_pid(home: Path) -> int | None:
    try:
        pid = int(_paths(home)["pid"].read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    return pid


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError as error:
            return error.errno == errno.EADDRINUSE
    return False


def listening_addresses(port: int) -> set[str]:
    """The IPv4/IPv6 addresses a TCP socket listens on for ``port`` (from /proc/net)."""
    found = set()
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, state = fields[1], fields[3]
            address, port_hex = local.split(":")
            if state != "0A" or int(port_hex, 16) != port:  # 0A = LISTEN
                continue
            if width == 8:
                found.add(socket.inet_ntop(socket.AF_INET, bytes.fromhex(address)[::-1]))
            else:
                raw = bytes.fromhex(address)
                found.add(socket.inet_ntop(socket.AF_INET6, b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))))
    return found


def _scrubbed_environment(base: dict[str, str], home: Path) -> dict[str, str]:
    """The caller's environment without anything Label Studio would read, plus the data folder of
    ``home`` and no calls home (analytics, the PyPI version check, Sentry)."""
    env = {
        name: value
        for name, value in base.items()
        if not name.startswith(("LABEL_STUDIO_", "HEARTEX_")) and name not in _LEAKY_NAMES
    }
    env.update(
        {
            "LABEL_STUDIO_BASE_DATA_DIR": str(_paths(home)["data"].resolve()),
            "LABEL_STUDIO_COLLECT_ANALYTICS": "false",
            "LABEL_STUDIO_LATEST_VERSION_CHECK": "false",
            "LABEL_STUDIO_SENTRY_DSN": "",
            "LABEL_STUDIO_FRONTEND_SENTRY_DSN": "",
        }
    )
    return env


def server_environment(base: dict[str, str], *, home: Path, credentials: Credentials) -> dict[str, str]:
    """The server's environment: the caller's, scrubbed, plus the settings it needs."""
    env = _scrubbed_environment(base, home)
    env.update(
        {
            "LABEL_STUDIO_USERNAME": credentials.username,
            "LABEL_STUDIO_PASSWORD": credentials.password.get_secret_value(),
            "LABEL_STUDIO_USER_TOKEN": credentials.api_key.get_secret_value(),
            "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",
            "LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK": "true",
        }
    )
    return env


PASSWORD_CHANGED = "Password successfully changed"


def set_password(
    *, home: Path, email: str, password: SecretStr, venv: Path | None = None, timeout: float = 300
) -> None:
    """Set a user's password on the server in ``home`` with its own ``label-studio reset_password``.

    The only way on Label Studio Community: its API creates users without a usable password.
    The email and the password go in on the command's standard input (its prompts), never on a
    command line, which any local user can read in ``ps``. The command runs in a session of its
    own: without a controlling terminal its password prompt reads standard input instead of
    asking the person at the terminal. It writes to the server's database while the server runs.
    """
    executable = venv_path(home, venv) / "bin" / "label-studio"
    try:
        done = subprocess.run(
            [str(executable), "reset_password"],
            input=f"{email}\n{password.get_secret_value()}\n",
            env=_scrubbed_environment(dict(os.environ), home),
            capture_output=True,
            text=True,
            timeout=timeout,
            start_new_session=True,
            cwd=home,
        )
    except OSError as error:
        raise LocalServerError(
            f"cannot run {executable}: {error.strerror}", hint=f"run `toolkit labelstudio up --home {home}` first"
        ) from None
    except subprocess.TimeoutExpired:
        raise LocalServerError(f"{executable} reset_password did not finish within {timeout:.0f} s") from None
    if PASSWORD_CHANGED not in done.stdout:
        said = " ".join(done.stdout.replace(password.get_secret_value(), "**********").split()[-20:])
        raise LocalServerError(
            f"{executable} reset_password did not set the password of {email} (exit {done.returncode}): {said}",
            hint=f"check the server in {home} with `toolkit labelstudio status --home {home}`",
        )


def _scrub(text: str, credentials: Credentials) -> str:
    for secret in (credentials.password.get_secret_value(), credentials.api_key.get_secret_value()):
        text = text.replace(secret, "**********")
    return text


def _log_tail(home: Path, credentials: Credentials, lines: int = 20) -> str:
    try:
        tail = _paths(home)["log"].read_text(errors="replace").splitlines()[-lines:]
    except OSError:
        return ""
    return _scrub("\n".join(tail), credentials)


def _run_step(step: list[str], on_progress: OnProgress | None) -> subprocess.CompletedProcess[str]:
    """Run one install step; pip's lines become progress (a package collected, then unpacking)."""
    try:
        process = subprocess.Popen(step, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    except OSError as error:  # bin/python missing: a venv step that never finished
        return subprocess.CompletedProcess(step, 127, f"{step[0]}: {error.strerror}", "")
    lines = []
    assert process.stdout is not None
    for line in process.stdout:
        lines.append(line.rstrip())
        if line.startswith("Collecting "):
            emit(on_progress, "install", 1)
        elif line.startswith("Installing collected packages:"):
            count = len(line.split(":", 1)[1].split(","))
            emit(
                on_progress,
                "install",
                note=f"Installing Label Studio: unpacking {plural(count, 'package')} (the longest part)",
            )
    return subprocess.CompletedProcess(step, process.wait(), "\n".join(lines), "")


def install(venv: Path, on_progress: OnProgress | None = None) -> None:
    """Create ``venv`` and install Label Studio into it (with ``SERVER_PINS``), unless that is there.

    A venv without ``bin/label-studio`` is an interrupted install: it is completed. pip
    may then call the package "already satisfied" and not write the entry point again,
    so a reinstall of the package alone (``--force-reinstall --no-deps``) restores it. A
    complete install made with other pins (an earlier toolkit's) is brought to these.
    """
    executable = venv / "bin" / "label-studio"
    marker = venv / INSTALL_MARKER
    installed = marker.read_text(encoding="utf-8").strip() if marker.is_file() else None
    if executable.exists() and installed == INSTALL_SPEC:
        return
    if executable.exists():
        note = f"{venv}: installing {INSTALL_SPEC} over the Label Studio install there"
    elif venv.exists():
        note = f"{venv} has no bin/label-studio (an interrupted install?): installing Label Studio again"
    else:
        note = f"Installing Label Studio {LABEL_STUDIO_VERSION} into {venv} (a few minutes, once)"
    emit(on_progress, "install", note=note)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--progress-bar", "off"]
    steps = [
        [sys.executable, "-m", "venv", str(venv)],
        [*pip, *INSTALL_SPEC.split()],
        [*pip, "--force-reinstall", "--no-deps", f"label-studio=={LABEL_STUDIO_VERSION}"],
    ]
    for number, step in enumerate(steps):
        if number == 0 and (venv / "bin" / "python").exists():
            continue  # the venv is there (an earlier install's): no new one, no pip bootstrap again
        if number == 2 and executable.exists():
            break
        done = _run_step(step, on_progress)
        if done.returncode != 0:
            tail = "\n".join(done.stdout.strip().splitlines()[-15:])
            raise LocalServerError(
                f"installing Label Studio into {venv} failed:\n{tail}",
                hint=f"fix the cause above, or remove {venv}, and run `toolkit labelstudio up` again",
            )
    if not executable.exists():
        raise LocalServerError(
            f"{venv} has no bin/label-studio after installing Label Studio {LABEL_STUDIO_VERSION}",
            hint=f"remove {venv} and run `toolkit labelstudio up` again (it installs afresh)",
        )
    marker.write_text(INSTALL_SPEC + "\n", encoding="utf-8")


def _new_credentials(port: int) -> Credentials:
    return Credentials(
        url=f"http://{HOST}:{port}",
        username=USERNAME,
        password=SecretStr(secrets.token_urlsafe(18)),
        api_key=SecretStr(secrets.token_hex(20)),
    )


def _check_api_key(credentials: Credentials) -> None:
    request = urllib.request.Request(
        f"{credentials.url}/api/current-user/whoami",
        headers={"Authorization": f"Token {credentials.api_key.get_secret_value()}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10):
            return
    except urllib.error.HTTPError as error:
        raise LocalServerError(
            f"the local server at {credentials.url} refuses the stored API key ({error.code})",
            hint="its data folder was made with other credentials: `toolkit labelstudio down`, "
            "remove the home folder, and run `toolkit labelstudio up` again",
        ) from None
    except OSError as error:
        raise LocalServerError(f"the local server at {credentials.url} does not answer ({error})") from None


def up(
    *,
    home: Path = DEFAULT_HOME,
    port: int | None = None,
    venv: Path | None = None,
    timeout: float = 300,
    on_progress: OnProgress | None = None,
) -> Credentials:
    """Start the local server (installing it first if needed); return its credentials.

    Idempotent: a server that is already running is left as it is. Progress: each step
    as a ``note``.
    """
    emit(on_progress, "start", note="Starting Label Studio")
    home.mkdir(parents=True, exist_ok=True)
    (home / ".gitignore").write_text("*\n")
    paths = _paths(home)
    stored = read_credentials(home)
    pid = _read_pid(home)
    if stored is not None and pid is not None and is_up(stored):
        if port is not None and port != stored.port:
            raise LocalServerError(
                f"the local server in {home} already runs on port {stored.port}",
                hint=f"stop it first: `toolkit labelstudio down --home {home}`",
            )
        _check_api_key(stored)
        return stored
    if pid is not None:  # a process that is not answering: stop it before starting anew
        down(home=home)

    wanted_port = (
        port or (stored.port if stored else None) or int(os.environ.get("TOOLKIT_LABEL_STUDIO_PORT", DEFAULT_PORT))
    )
    if _port_in_use(wanted_port):
        raise LocalServerError(
            f"port {wanted_port} on {HOST} is already in use by another program",
            hint="choose another with `toolkit labelstudio up --port N`",
        )
    # The user (and its token) is created only on the first start; keep them after.
    credentials = (
        _new_credentials(wanted_port)
        if stored is None
        else Credentials(
            url=f"http://{HOST}:{wanted_port}",
            username=stored.username,
            password=stored.password,
            api_key=stored.api_key,
        )
    )
    _write_credentials(home, credentials)

    environment = venv_path(home, venv)
    install(environment, on_progress)
    paths["data"].mkdir(parents=True, exist_ok=True)
    emit(
        on_progress,
        "start",
        note=f"Starting Label Studio on {credentials.url} (the first start migrates its database: ~1 minute)",
    )
    command = [
        str(environment / "bin" / "label-studio"),
        "start",
        "--no-browser",
        "--internal-host",
        HOST,
        "--port",
        str(wanted_port),
        "--log-level",
        "WARNING",
    ]
    with paths["log"].open("ab") as log:
        try:
            process = subprocess.Popen(
                command,
                env=server_environment(dict(os.environ), home=home, credentials=credentials),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                cwd=home,
            )
        except OSError as error:  # e.g. its #! names a Python that is gone (a moved venv)
            raise LocalServerError(
                f"cannot run {command[0]}: {error.strerror}",
                hint=f"remove {environment} and run `toolkit labelstudio up` again (it installs afresh)",
            ) from None
    paths["pid"].write_text(str(process.pid))

    deadline = time.monotonic() + timeout
    while not is_up(credentials):
        if process.poll() is not None:
            paths["pid"].unlink(missing_ok=True)
            raise LocalServerError(
                f"Label Studio exited with code {process.returncode} while starting; "
                f"last lines of {paths['log']}:\n{_log_tail(home, credentials)}"
            )
        if time.monotonic() > deadline:
            down(home=home)
            raise LocalServerError(
                f"Label Studio did not answer on {credentials.url} within {timeout:.0f} s; "
                f"last lines of {paths['log']}:\n{_log_tail(home, credentials)}"
            )
        time.sleep(1)

    addresses = listening_addresses(wanted_port)
    if addresses - {HOST}:
        down(home=home)
        raise LocalServerError(
            f"Label Studio listened on {', '.join(sorted(addresses))}, not only on {HOST}; stopped it"
        )
    _check_api_key(credentials)
    return credentials


def _group_gone(pid: int) -> bool:
    # Reap the server if this process started it (tests start and stop it in one
    # process); a zombie would otherwise look alive.
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return True
    return False


def down(*, home: Path = DEFAULT_HOME, timeout: float = 30) -> bool:
    """Stop the local server; False when none was running."""
    pid_file = _paths(home)["pid"]
    pid = _read_pid(home)
    if pid is None:
        pid_file.unlink(missing_ok=True)
        return False
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        pid_file.unlink(missing_ok=True)
        return False
    deadline = time.monotonic() + timeout
    while not _group_gone(pid):
        if time.monotonic() > deadline:
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            break
        time.sleep(0.2)
    pid_file.unlink(missing_ok=True)
    return True


def status(*, home: Path = DEFAULT_HOME) -> ServerStatus:
    credentials = read_credentials(home)
    pid = _read_pid(home)
    running = credentials is not None and pid is not None and is_up(credentials)
    return ServerStatus(
        running=running,
        url=credentials.url if credentials else None,
        pid=pid if running else None,
        version=_version(credentials.url) if running and credentials else None,
        home=home,
        username=credentials.username if credentials else None,
    )
