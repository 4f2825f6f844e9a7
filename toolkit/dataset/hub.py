"""Uploading a version to the Hugging Face Hub: the parquet files, then the card."""

from __future__ import annotations

from pathlib import Path

from toolkit.errors import OutputError
from toolkit.io.exports import read_manifest


def check_hub_repo(repo_id: str, *, name: str = "repo_id") -> str:
    """Check a Hub dataset repo id and that a token is at hand, before any work is done.

    ``name`` is what the messages call the repo id (the CLI passes its option's name).
    """
    from huggingface_hub import get_token
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    if repo_id.count("/") != 1:
        raise OutputError(f"{name} {repo_id!r}: expected OWNER/NAME, e.g. my-org/news-ner")
    try:
        validate_repo_id(repo_id)
    except HFValidationError as error:
        raise OutputError(f"{name} {repo_id!r}: not a valid repo id ({str(error).splitlines()[0]})") from None
    if not get_token():
        raise OutputError(f"{name} needs a Hugging Face token", hint="set HF_TOKEN, or log in with `hf auth login`")
    return repo_id


def push_to_hub(version: Path, repo_id: str, *, private: bool = True, name: str = "repo_id") -> str:
    """Upload an export version: the parquet files through ``DatasetDict.push_to_hub``, then its card.

    ``push_to_hub`` writes only YAML into a new README; the card with the prose is
    uploaded after it, so the Hub shows the same card as the export folder. ``name`` as
    in ``check_hub_repo``.
    """
    from datasets import load_from_disk
    from huggingface_hub import DatasetCard
    from huggingface_hub.errors import HfHubHTTPError

    manifest = read_manifest(version)
    message = (
        f"toolkit export {manifest.get('name')} {manifest.get('version')} "
        f"(input sha256 {manifest['input']['sha256'][:12]})"
    )
    try:
        load_from_disk(str(version)).push_to_hub(repo_id, private=private, commit_message=message)
        DatasetCard.load(version / "README.md").push_to_hub(
            repo_id, repo_type="dataset", commit_message=f"{message}: card"
        )
    except HfHubHTTPError as error:
        raise OutputError(f"{name} {repo_id}: the Hub refused the upload ({str(error).splitlines()[0]})") from None
    return f"https://huggingface.co/datasets/{repo_id}"
