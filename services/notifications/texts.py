"""Texts of notifications and of their mails, from files under `templates/`.

`templates/texts/<language>.toml` holds each kind's name, title and body and the mails'
sentences, as Jinja2 templates rendered to plain text; `templates/mail/` holds the mails'
plain text and HTML layouts. HTML templates autoescape, so a brief's title or a reason typed
by someone else can never become markup in a mail.
"""

import functools
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from contracts.notifications import Language, NotificationKind

TEMPLATES = Path(__file__).resolve().parent / "templates"
TITLE_LIMIT = 300
BODY_LIMIT = 2000
# Values every kind's texts may name; those an event does not give read as empty.
DEFAULTS = {"brief": "", "merchant": "", "kol": "", "other": "", "side": ""}


@dataclass(frozen=True, slots=True)
class Link:
    label: str
    url: str


@dataclass(frozen=True, slots=True)
class Item:
    """One notification listed in a digest."""

    title: str
    body: str
    url: str


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    text: str
    html: str


@dataclass(frozen=True, slots=True)
class _KindTexts:
    name: jinja2.Template
    title: jinja2.Template
    body: jinja2.Template


@dataclass(frozen=True, slots=True)
class _Catalog:
    kinds: dict[NotificationKind, _KindTexts]
    mail: dict[str, jinja2.Template]


@functools.cache
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES / "mail"),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html.j2",), default_for_string=False, default=False
        ),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@functools.cache
def _catalog(language: Language) -> _Catalog:
    path = TEMPLATES / "texts" / f"{language.value}.toml"
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    env = environment()
    kinds = {
        NotificationKind(kind): _KindTexts(
            name=env.from_string(texts["name"]),
            title=env.from_string(texts["title"]),
            body=env.from_string(texts["body"]),
        )
        for kind, texts in data["kinds"].items()
    }
    mail = {key: env.from_string(text) for key, text in data["mail"].items()}
    return _Catalog(kinds=kinds, mail=mail)


def _clip(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def notice(kind: NotificationKind, language: Language, values: dict[str, Any]) -> tuple[str, str]:
    """The title and body of a notification of `kind` with `values`."""
    texts = _catalog(language).kinds[kind]
    merged = {**DEFAULTS, **values}
    title = " ".join(texts.title.render(merged).split())
    return _clip(title, TITLE_LIMIT), _clip(texts.body.render(merged), BODY_LIMIT)


def kind_name(kind: NotificationKind, language: Language) -> str:
    return _catalog(language).kinds[kind].name.render()


def _sentences(language: Language, **values: Any) -> dict[str, str]:
    return {key: t.render(values) for key, t in _catalog(language).mail.items()}


def unsubscribe_links(language: Language, links: list[tuple[NotificationKind, str]]) -> list[Link]:
    """The footer's links, one per kind the mail is about, each stopping that kind only."""
    template = _catalog(language).mail["unsubscribe"]
    return [Link(template.render(name=kind_name(kind, language)), url) for kind, url in links]


def notification_mail(
    language: Language, title: str, body: str, url: str, unsubscribe: list[Link]
) -> Rendered:
    """The mail of one notification: its title as the subject, its body and link."""
    values = {
        "language": language.value, "text": _sentences(language, count=1, name=""),
        "title": title, "body": body, "url": url, "unsubscribe": unsubscribe,
    }  # fmt: skip
    env = environment()
    return Rendered(
        subject=title,
        text=env.get_template("notification.txt.j2").render(values),
        html=env.get_template("notification.html.j2").render(values),
    )


def digest_mail(language: Language, items: list[Item], unsubscribe: list[Link]) -> Rendered:
    """The daily digest gathering `items`."""
    text = _sentences(language, count=len(items), name="")
    values = {
        "language": language.value, "text": text, "subject": text["digest_subject"],
        "items": items, "unsubscribe": unsubscribe,
    }  # fmt: skip
    env = environment()
    return Rendered(
        subject=text["digest_subject"],
        text=env.get_template("digest.txt.j2").render(values),
        html=env.get_template("digest.html.j2").render(values),
    )
