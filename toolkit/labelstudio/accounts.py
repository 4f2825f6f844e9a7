"""Label Studio user accounts: listed, created, named; the organisation's owner and sign-up link.

Label Studio Community 1.23 has one organisation and no roles: every member may list
every user (emails included) and open every project. Its API creates a user without a
usable password (a login with the password given answers "don't match"): a password is
set with the server's own command (``localserver.set_password``), or the person signs up
with the organisation's invite link.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from toolkit.labelstudio.client import NO_RETRY, ServerSettings, call, get_json

if TYPE_CHECKING:
    from label_studio_sdk import LabelStudio


@dataclass(frozen=True)
class Account:
    id: int
    email: str
    username: str
    first_name: str
    last_name: str

    @classmethod
    def of(cls, user: Any) -> Account:
        return cls(
            id=user.id,
            email=user.email or "",
            username=user.username or "",
            first_name=user.first_name or "",
            last_name=user.last_name or "",
        )

    def named(self, name: str) -> bool:
        """Whether every name Label Studio shows for the account (beside the email) is ``name``."""
        return (self.username, self.first_name, self.last_name) == (name, name, "")


@dataclass(frozen=True)
class Me:
    """The user whose API key the toolkit uses, and whether they created the organisation."""

    id: int
    email: str
    organization: int | None
    owner: bool


def me(client: LabelStudio, settings: ServerSettings) -> Me:
    """Who the API key belongs to; ``owner`` when they created their active organisation."""
    user = call(settings, "read the current user", client.users.whoami)
    organization = getattr(user, "active_organization", None)
    owner = False
    if organization is not None:
        data = call(settings, "read the organisation", get_json, client, f"api/organizations/{organization}", {})
        owner = data.get("created_by") == user.id
    return Me(id=user.id, email=user.email or "", organization=organization, owner=owner)


def accounts(client: LabelStudio, settings: ServerSettings) -> list[Account]:
    """Every user of the organisation (the SDK's pager runs inside ``call``)."""
    return call(settings, "list the users", lambda: [Account.of(user) for user in client.users.list()])


def create_account(client: LabelStudio, settings: ServerSettings, email: str) -> Account:
    """A new account for ``email``, under a placeholder name (``name_account`` names it: its
    anonymous id is made from the user id, which only the server gives out)."""
    placeholder = f"ann-pending-{secrets.token_hex(4)}"
    user = call(
        settings,
        f"create an account for {email}",
        client.users.create,
        email=email,
        username=placeholder,
        first_name=placeholder,
        request_options=NO_RETRY,
    )
    return Account.of(user)


def name_account(client: LabelStudio, settings: ServerSettings, account: Account, name: str) -> Account:
    """Show ``name`` wherever Label Studio names the account by name (username, first name), no last name."""
    user = call(
        settings,
        "name the account",
        client.users.update,
        id=account.id,
        username=name,
        first_name=name,
        last_name="",
        request_options=NO_RETRY,
    )
    return Account.of(user)


def invite_url(client: LabelStudio, settings: ServerSettings) -> str:
    """The organisation's sign-up link: whoever has it can join (and then see every project)."""
    data = call(settings, "read the organisation's invite link", get_json, client, "api/invite", {})
    return f"{settings.public_url}{data['invite_url']}"
