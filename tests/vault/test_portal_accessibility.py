"""Static accessibility checks on every portal page of the vault (an automated browser audit
such as axe-core belongs to the end-to-end issue): labelled controls, one h1, a working
skip link, named drawings, and sentiment never shown by colour alone."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from tests.vault.test_portal_pages import seed_vault

pytestmark = pytest.mark.django_db

PAGES = [
    "vault:dashboard",
    "vault:upload",
    "vault:track_list",
    "vault:timeline",
    "vault:social_list",
    "vault:zones",
    "vault:export",
    "accounts:delete",
]


class PageAudit(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.labels_for: set[str] = set()
        self.controls: list[dict[str, str | None]] = []
        self.ids: set[str] = set()
        self.h1_count = 0
        self.unnamed_svgs = 0
        self.lang: str | None = None
        self.skip_target: str | None = None
        self.empty_buttons = 0
        self._button_text: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if "id" in attributes:
            self.ids.add(attributes["id"])
        if tag == "html":
            self.lang = attributes.get("lang")
        elif tag == "label" and attributes.get("for"):
            self.labels_for.add(attributes["for"])
        elif tag in ("input", "select", "textarea") and attributes.get("type") not in ("hidden", "submit"):
            self.controls.append(attributes)
        elif tag == "h1":
            self.h1_count += 1
        elif tag == "svg" and not (attributes.get("role") == "img" and attributes.get("aria-label")):
            self.unnamed_svgs += 1
        elif tag == "a" and "skip-link" in (attributes.get("class") or ""):
            self.skip_target = (attributes.get("href") or "").lstrip("#")
        elif tag == "button":
            self._button_text = []

    def handle_data(self, data):
        if self._button_text is not None:
            self._button_text.append(data)

    def handle_endtag(self, tag):
        if tag == "button" and self._button_text is not None:
            if not "".join(self._button_text).strip():
                self.empty_buttons += 1
            self._button_text = None


def _audit(client, name: str) -> PageAudit:
    response = client.get(reverse(name))
    assert response.status_code == 200, name
    audit = PageAudit()
    audit.feed(response.content.decode())
    return audit


@pytest.mark.parametrize("name", PAGES)
def test_page_is_accessible_by_construction(client, person, name):
    seed_vault(person, points=20)
    client.force_login(person)
    audit = _audit(client, name)
    assert audit.lang == "en"
    assert audit.h1_count == 1
    assert audit.skip_target
    assert audit.skip_target in audit.ids
    unlabelled = [c for c in audit.controls if c.get("id") not in audit.labels_for and not c.get("aria-label")]
    assert unlabelled == []
    assert audit.unnamed_svgs == 0
    assert audit.empty_buttons == 0


def test_sentiment_is_said_in_words_not_only_colour(client, person):
    seed_vault(person)
    client.force_login(person)
    body = client.get(reverse("vault:timeline")).content.decode()
    # The symbols are hidden from screen readers; the words carry the meaning.
    assert '<span aria-hidden="true" class="sentiment-symbol">♥♥</span> You loved it' in body
    assert '<span aria-hidden="true" class="sentiment-symbol">✕✕</span> You loathed it' in body


def test_anonymous_pages_are_accessible_too(client, db):
    for name in ("vault:home", "accounts:login", "accounts:signup"):
        audit = _audit(client, name)
        unlabelled = [c for c in audit.controls if c.get("id") not in audit.labels_for]
        assert unlabelled == [], name
        assert audit.h1_count == 1, name
