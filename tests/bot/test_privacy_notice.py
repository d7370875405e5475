"""The privacy notice's text and its version move together: a customer is asked to accept again exactly
when the text they accepted changed (storage.people.consent)."""

from __future__ import annotations

import hashlib

from bot.i18n import load
from storage.people import consent

# The notice's text (every language) of each version, as a SHA-256. Changing the text: bump
# storage.people.consent.NOTICE_VERSION and add its hash here; every customer is then asked again.
NOTICES = {
    "1": "952daaad1c287896d11bc4a6969916a6bdf59a1bff5b0605ba604ed05542cdad",
    "2": "02cb25b998fcabe816c520647254fddfaca76fa6fbc44e92809172136e87e3fa",
}


def _notice_hash() -> str:
    catalogs = load()
    text = "\n".join(catalogs[language]["onboarding.privacy"] for language in sorted(catalogs))
    return hashlib.sha256(text.encode()).hexdigest()


def test_the_notice_text_is_the_one_its_version_names() -> None:
    assert consent.NOTICE_VERSION in NOTICES, "a new NOTICE_VERSION: record its text's hash in NOTICES"
    assert _notice_hash() == NOTICES[consent.NOTICE_VERSION], (
        "the privacy notice's text changed: bump storage.people.consent.NOTICE_VERSION and record the new "
        f"hash {_notice_hash()} in NOTICES, so that customers accept it again"
    )


def test_a_version_names_one_text() -> None:
    assert len(set(NOTICES.values())) == len(NOTICES)
