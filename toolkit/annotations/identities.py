"""Who annotated, without saying who: anonymous annotator ids, and exports stripped of names and emails.

Annotators are stored as ``ann-`` + an HMAC-SHA256 of their Label Studio user id with a
per-install secret (``pull.secret_file``, created on the first pull, mode 0600;
``TOOLKIT_ANNOTATOR_SECRET`` overrides it so a team can share ids). Names and emails
are never written: a task is stripped of them before it is kept or read.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path
from typing import Any

from toolkit.errors import OutputError

SECRET_VARIABLE = "TOOLKIT_ANNOTATOR_SECRET"
# Keys that name a person wherever they appear outside the task's data and results.
IDENTITY_KEYS = frozenset(
    {"created_username", "email", "username", "first_name", "last_name", "avatar", "initials", "phone"}
)
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
IDENTITIES_REMOVED = (
    "annotator names and emails removed (a draft's user and created_username, any email, username or name field); "
    "Label Studio's numeric user ids kept: the anonymous annotator ids are derived from them"
)


def strip_identities(task: dict[str, Any]) -> dict[str, Any]:
    """The task without the names and emails of Label Studio users; pull results are unchanged by it.

    The task's ``data`` and the results (the annotated text) are left as they are.
    """
    for draft in task.get("drafts") or []:
        if isinstance(draft, dict) and not isinstance(draft.get("user"), int):
            # A draft names its user by email; ``created_username`` ends with ", <user id>".
            name = draft.get("created_username")
            user_id = name.rsplit(", ", 1)[1] if isinstance(name, str) and ", " in name else ""
            draft["user"] = int(user_id) if user_id.isdigit() else None
    return {key: value if key == "data" else _without_identities(value) for key, value in task.items()}


def _without_identities(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: item if key in ("result", "data") else _without_identities(item)
            for key, item in value.items()
            if key not in IDENTITY_KEYS
        }
    if isinstance(value, list):
        return [_without_identities(item) for item in value]
    if isinstance(value, str) and EMAIL.fullmatch(value):
        return None
    return value


def annotator_secret(path: Path) -> bytes:
    """The per-install secret behind annotator ids; created (mode 0600) on first use.

    ``TOOLKIT_ANNOTATOR_SECRET`` wins, so that a team can share ids across machines.
    """
    from_env = os.environ.get(SECRET_VARIABLE, "").strip()
    if from_env:
        return from_env.encode()
    try:
        return path.read_text(encoding="utf-8").strip().encode()
    except FileNotFoundError:
        pass
    except OSError as error:
        raise OutputError(f"{path}: cannot read the annotator secret ({error.strerror})") from None
    value = secrets.token_hex(32)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(value + "\n")
    except FileExistsError:  # another pull created it meanwhile
        return path.read_text(encoding="utf-8").strip().encode()
    except OSError as error:
        raise OutputError(f"{path}: cannot create the annotator secret ({error.strerror})") from None
    return value.encode()


class AnnotatorIds:
    """Stable anonymous annotator ids: an HMAC of the Label Studio user id with a per-install secret.

    The same user gets the same id in every pull of this install; nobody without the
    secret can tell who it is, and no name or email is ever written.
    """

    def __init__(self, secret: bytes) -> None:
        self._secret = secret
        self._cache: dict[str, str] = {}

    @property
    def key(self) -> str:
        """Which secret makes these ids, without the secret: an HMAC of a fixed text with it.

        Stored beside ids kept elsewhere (the review tasks' ``annotators``), so that ids made
        with another secret are told from ids of other annotators. It says no more about the
        secret than any anonymous id does (both are HMACs of known texts with it).
        """
        return hmac.new(self._secret, b"toolkit: which secret made these annotator ids", hashlib.sha256).hexdigest()[
            :16
        ]

    def __call__(self, user: Any) -> str:
        if isinstance(user, dict):
            user = user.get("id")
        if user is None or user == "":
            return "ann-unknown"
        key = str(user)
        if key not in self._cache:
            digest = hmac.new(self._secret, f"user:{key}".encode(), hashlib.sha256).hexdigest()
            self._cache[key] = f"ann-{digest[:12]}"
        return self._cache[key]

    def of_draft(self, draft: dict[str, Any]) -> str:
        # Drafts name their user by email; ``created_username`` ends with ", <user id>".
        name = draft.get("created_username")
        if isinstance(name, str) and ", " in name and name.rsplit(", ", 1)[1].isdigit():
            return self(int(name.rsplit(", ", 1)[1]))
        user = draft.get("user")
        return self(user if isinstance(user, int) else None)
