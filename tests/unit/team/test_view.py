"""What ``toolkit annotators add`` and ``list`` say, from results built in memory; the email check and
which server is the toolkit's own, without a server."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from pydantic import SecretStr
from rich.console import Console

from toolkit.errors import InputError
from toolkit.labelstudio.client import ServerSettings
from toolkit.render.console import print_document
from toolkit.team import AddResult, AnnotatorAccount, ListResult, view
from toolkit.team.accounts import check_emails, local_home

URL = "http://127.0.0.1:8091"


def shown(document) -> str:
    console = Console(file=io.StringIO(), width=400, highlight=False, markup=False)
    print_document(console, document)
    return console.file.getvalue()


def test_add_says_once_how_each_person_signs_in():
    accounts = [
        AnnotatorAccount("ana@example.org", "ann-aaaaaaaaaaaa", "created", password=SecretStr("s3cret-pw")),
        AnnotatorAccount("ben@example.org", "ann-bbbbbbbbbbbb", "existing", renamed=True),
        AnnotatorAccount("admin@localhost", "ann-cccccccccccc", "existing", owner=True),
    ]
    said = shown(view.added(AddResult(URL, f"{URL}/user/login/", accounts, local=True)))
    assert said.startswith(f"Annotators on {URL}: 3 emails")
    assert (
        "ana@example.org: account created, shown in Label Studio as ann-aaaaaaaaaaaa; logs in with password s3cret-pw"
        in said
    )
    assert (
        "ben@example.org: has an account, named by its anonymous id now, shown in Label Studio as ann-bbbbbbbbbbbb; "
        "password left as it is (--reset-password sets a new one)" in said
    )
    assert (
        "admin@localhost: has an account, shown in Label Studio as ann-cccccccccccc; the organisation's owner" in said
    )
    assert f"log in at {URL}/user/login/ with the email and the password above" in said
    assert "shown this once and kept nowhere" in said
    assert "sign up" not in said
    assert "s3cret-pw" not in repr(accounts[0])  # a result's repr (a log, a traceback) never holds it


def test_add_on_another_server_gives_the_sign_up_link():
    accounts = [AnnotatorAccount("ana@example.org", None, "sign-up")]
    said = shown(
        view.added(
            AddResult(URL, f"{URL}/user/login/", accounts, local=False, sign_up_url=f"{URL}/user/signup/?token=t")
        )
    )
    assert "ana@example.org: no account yet: signs up with the link below, using this email" in said
    assert f"sign up at {URL}/user/signup/?token=t (anyone with this link can join: share it privately)" in said
    assert "then run `toolkit annotators add` again" in said
    assert "password" not in said
    assert "1 email" in said


def test_add_on_another_server_names_the_folder_without_its_credentials():
    accounts = [AnnotatorAccount("ana@example.org", None, "sign-up")]
    result = AddResult(URL, f"{URL}/user/login/", accounts, local=False, sign_up_url=f"{URL}/s", home=Path("srv"))
    said = " ".join(shown(view.added(result)).split())
    assert "no passwords set: srv holds no credentials of this server" in said
    assert "pass that --home" in said


def test_list_pairs_emails_with_ids_and_says_which_are_not_named_yet():
    accounts = [
        AnnotatorAccount("admin@localhost", "ann-cccccccccccc", "existing", owner=True),
        AnnotatorAccount("ana@example.org", "ann-aaaaaaaaaaaa", "existing"),
        AnnotatorAccount("old@example.org", "ann-dddddddddddd", "existing", named=False),
    ]
    lines = shown(view.listed(ListResult(URL, accounts))).splitlines()
    assert lines[0] == f"3 accounts on {URL} (keep this list to yourself)"
    assert "  ana@example.org -> ann-aaaaaaaaaaaa" in lines
    assert "  admin@localhost -> ann-cccccccccccc (the organisation's owner, the toolkit's user)" in lines
    assert any(line.startswith("  old@example.org -> ann-dddddddddddd (not named by its id") for line in lines)


def test_emails_are_checked_before_anything_is_created_and_taken_once():
    assert check_emails(["Ana@Example.org", "ben@example.org", "ana@example.org "]) == [
        "Ana@Example.org",
        "ben@example.org",
    ]
    with pytest.raises(InputError, match=r"not an email address: 'x@y', 'ben'; nothing was created"):
        check_emails(["ana@example.org", "x@y", "ben"])


def test_the_toolkits_own_server_is_the_one_its_credentials_file_names(tmp_path):
    settings = ServerSettings(url=URL, api_key=SecretStr("k"), origin="environment")
    assert local_home(settings, tmp_path) is None  # no credentials file: another server
    credentials = {"url": URL, "username": "admin@localhost", "password": "p", "api_key": "k"}
    (tmp_path / "credentials.json").write_text(json.dumps(credentials))
    assert local_home(settings, tmp_path) == tmp_path
    elsewhere = ServerSettings(url="http://127.0.0.1:9999", api_key=SecretStr("k"), origin="environment")
    assert local_home(elsewhere, tmp_path) is None
