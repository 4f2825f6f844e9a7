"""The annotators' views: how each person signs in (``toolkit annotators add``, the one place a
generated password is shown), and email -> anonymous id (``toolkit annotators list``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from toolkit.render import Code, Data, Document, Line, Section, plural

if TYPE_CHECKING:
    from toolkit.team.accounts import AddResult, AnnotatorAccount, ListResult

INDENT = "  "


def _line(*pieces: str, note: bool = False) -> Line:
    return Line((INDENT, *pieces), note=note)


def _signs_in(account: AnnotatorAccount) -> Line:
    email = Data(account.email)
    if account.status == "sign-up":
        return _line(email, ": no account yet: signs up with the link below, using this email")
    state = {"created": "account created", "existing": "has an account"}[account.status]
    named = ", named by its anonymous id now" if account.renamed else ""
    head = (email, f": {state}{named}, shown in Label Studio as ", Data(account.annotator or ""))
    if account.password is not None:
        return _line(*head, "; logs in with password ", Data(account.password.get_secret_value()))
    if account.owner:
        return _line(*head, "; the organisation's owner (the toolkit's own user): password left as it is")
    if account.status == "existing":
        return _line(*head, "; password left as it is (--reset-password sets a new one)")
    return _line(*head)


def added(result: AddResult) -> Document:
    """Who can log in, where and with what; the sign-up link for those without an account."""
    lines = [_signs_in(account) for account in result.accounts]
    sections = [Section("accounts", None, tuple(lines))]
    how: list[Line] = []
    if any(account.password is not None for account in result.accounts):
        how.append(_line("log in at ", Code(result.login_url), " with the email and the password above"))
        how.append(
            _line(
                "the passwords are shown this once and kept nowhere: pass each on privately; "
                "a forgotten one: `toolkit annotators add EMAIL --reset-password`",
                note=True,
            )
        )
    if result.sign_up_url is not None:
        how.append(
            _line("sign up at ", Code(result.sign_up_url), " (anyone with this link can join: share it privately)")
        )
        how.append(_line("then run `toolkit annotators add` again for them: it names their accounts by anonymous id"))
    if not result.local and result.sign_up_url is None:
        how.append(_line("log in at ", Code(result.login_url), " with their own passwords"))
    if result.sign_up_url is not None and result.home is not None:
        how.append(
            _line(
                f"no passwords set: {result.home} holds no credentials of this server; accounts get passwords "
                "only on the server `toolkit labelstudio up --home FOLDER` runs (pass that --home)",
                note=True,
            )
        )
    if how:
        sections.append(Section("sign in", None, tuple(how)))
    sections.append(Section("limits", None, (_line(LIMITS),)))
    title = f"Annotators on {result.server}: {plural(len(result.accounts), 'email')}"
    return Document(title, tuple(sections), rules=False)


LIMITS = (
    "Label Studio Community has no roles: every account can open every project (the review project too) "
    "and sees other annotators' emails beside their annotations (docs/team.md)"
)


def listed(result: ListResult) -> Document:
    """Email -> anonymous id, one account a line (for the organisation's owner)."""
    lines = []
    for account in result.accounts:
        notes = []
        if account.owner:
            notes.append("the organisation's owner, the toolkit's user")
        if not account.named:
            notes.append("not named by its id in Label Studio yet: `toolkit annotators add` names it")
        said = f" ({'; '.join(notes)})" if notes else ""
        lines.append(_line(Data(account.email), " -> ", Data(account.annotator or ""), said))
    title = f"{plural(len(result.accounts), 'account')} on {result.server} (keep this list to yourself)"
    return Document(title, (Section("annotators", None, tuple(lines)),), rules=False)
