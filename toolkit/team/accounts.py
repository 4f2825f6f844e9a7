"""Annotators' accounts on the project's Label Studio server, named by their anonymous ids.

An account is named (username and first name) by the person's anonymous annotator id
(``toolkit.annotations.identities``: an HMAC of the Label Studio user id with the
install's secret), so that Label Studio shows that id where it shows a name. Label Studio
logs people in by email, so the email stays; Label Studio Community shows it beside
their annotations and to every member (docs/team.md says what else it shows to whom).

How a person signs in:

- On the server the toolkit runs itself (``toolkit labelstudio up``: its credentials file
  in ``home`` names the same URL), the account is created and given a generated password,
  set with the server's own ``label-studio reset_password``; the password is returned once,
  in the result, and never written anywhere.
- On any other server the API cannot set a password: nothing is created; the result holds
  the organisation's sign-up link. Once the person has signed up, ``add_annotators`` again
  names their account.

Idempotent: an email with an account is reported as existing (named again when its names
differ), its password left alone unless ``reset_password``.

Only the organisation's owner (the user who created it; the toolkit's API key must be
theirs) may add or list annotators: the list pairs emails with anonymous ids.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import SecretStr

from toolkit.annotations.identities import EMAIL, AnnotatorIds, annotator_secret
from toolkit.config import Config
from toolkit.errors import AccountError, InputError
from toolkit.labelstudio import localserver
from toolkit.labelstudio.accounts import Account, Me, accounts, create_account, invite_url, me, name_account
from toolkit.labelstudio.client import ServerSettings, connect, public_url

if TYPE_CHECKING:
    from label_studio_sdk import LabelStudio

Status = Literal["created", "existing", "sign-up"]


@dataclass(frozen=True)
class AnnotatorAccount:
    email: str
    annotator: str | None  # the anonymous id (None: no account yet, the person signs up first)
    status: Status
    renamed: bool = False  # an existing account's names were set to its anonymous id
    password: SecretStr | None = None  # set now (shown once, by the add command's output only)
    owner: bool = False  # the organisation's owner (the toolkit's own user)
    named: bool = True  # Label Studio shows the anonymous id as its name (else `add` names it)

    def __repr__(self) -> str:
        return f"AnnotatorAccount(email={self.email!r}, annotator={self.annotator!r}, status={self.status!r})"


@dataclass(frozen=True)
class AddResult:
    server: str  # public URL
    login_url: str
    accounts: list[AnnotatorAccount]
    local: bool  # the toolkit's own server: accounts get passwords
    sign_up_url: str | None = None  # the organisation's invite link, when someone must sign up
    home: Path | None = None  # the local server's folder looked in for this server's credentials


@dataclass(frozen=True)
class ListResult:
    server: str
    accounts: list[AnnotatorAccount] = field(default_factory=list)


def local_home(settings: ServerSettings, home: Path) -> Path | None:
    """``home`` when it holds the credentials of the server ``settings`` names (the toolkit runs it)."""
    credentials = localserver.read_credentials(home)
    if credentials is None or public_url(credentials.url) != settings.public_url:
        return None
    return home


def check_emails(emails: list[str]) -> list[str]:
    """The emails, each once (compared without case), in order; an InputError naming any that is not one."""
    bad = [email for email in emails if not EMAIL.fullmatch(email.strip())]
    if bad:
        raise InputError(
            f"not an email address: {', '.join(repr(email) for email in bad)}; nothing was created",
            hint="pass each annotator's email, e.g. `toolkit annotators add ana@example.org`",
        )
    seen: dict[str, str] = {}
    for email in emails:
        seen.setdefault(email.strip().lower(), email.strip())
    return list(seen.values())


def _owner(client: LabelStudio, settings: ServerSettings, what: str) -> Me:
    """The API key's user, who must have created the organisation."""
    who = me(client, settings)
    if not who.owner:
        raise AccountError(
            f"the API key's user on {settings.public_url} did not create its organisation: only the owner may {what} "
            "(the list pairs emails with anonymous annotator ids)",
            hint="use the owner's API key (LABEL_STUDIO_API_KEY); on the local server that is the toolkit's own",
        )
    return who


def add_annotators(
    emails: list[str],
    *,
    config: Config,
    settings: ServerSettings,
    home: Path = localserver.DEFAULT_HOME,
    reset_password: bool = False,
) -> AddResult:
    """Accounts for ``emails``, each named by its anonymous id; how each person signs in."""
    wanted = check_emails(emails)
    client = connect(settings)
    who = _owner(client, settings, "add annotators")
    ids = AnnotatorIds(annotator_secret(config.pull.secret_file))
    local = local_home(settings, home)
    existing = {account.email.lower(): account for account in accounts(client, settings)}
    done = []
    for email in wanted:
        account = existing.get(email.lower())
        if account is None and local is None:
            done.append(AnnotatorAccount(email=email, annotator=None, status="sign-up"))
            continue
        status: Status = "existing" if account is not None else "created"
        account = account or create_account(client, settings, email)
        name = ids(account.id)
        renamed = status == "existing" and not account.named(name)
        if status == "created" or renamed:
            account = name_account(client, settings, account, name)
        password = None
        # Never the owner's: the toolkit logs in with the password its credentials file holds.
        if local is not None and account.id != who.id and (status == "created" or reset_password):
            password = SecretStr(secrets.token_urlsafe(12))
            localserver.set_password(home=local, email=account.email, password=password)
        done.append(
            AnnotatorAccount(
                email=account.email,
                annotator=name,
                status=status,
                renamed=renamed,
                password=password,
                owner=account.id == who.id,
            )
        )
    sign_up = invite_url(client, settings) if any(item.status == "sign-up" for item in done) else None
    return AddResult(
        server=settings.public_url,
        login_url=f"{settings.public_url}/user/login/",
        accounts=done,
        local=local is not None,
        sign_up_url=sign_up,
        home=home,
    )


def list_annotators(*, config: Config, settings: ServerSettings) -> ListResult:
    """Every account of the organisation: email -> anonymous id (the owner's own marked), for the owner only."""
    client = connect(settings)
    who = _owner(client, settings, "list annotators")
    ids = AnnotatorIds(annotator_secret(config.pull.secret_file))
    listed = sorted(accounts(client, settings), key=lambda account: account.email.lower())
    return ListResult(
        server=settings.public_url,
        accounts=[_listed(account, ids(account.id), owner=account.id == who.id) for account in listed],
    )


def _listed(account: Account, name: str, *, owner: bool) -> AnnotatorAccount:
    return AnnotatorAccount(
        email=account.email, annotator=name, status="existing", owner=owner, named=account.named(name)
    )
