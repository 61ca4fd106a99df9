"""Message texts: a template per kind, channel and language, kept in ``sms_notify/templates/``.

``<kind>.<lang>.txt`` is an e-mail: its first line is the subject, a blank line, then the
body. ``<kind>.<lang>.sms.txt`` is the short form for SMS (70 Cyrillic characters fit one
SMS). Placeholders are ``string.Template`` ones: ``$code``, ``$minutes``...
A language without texts falls back to English; a kind without texts at all is an error.
"""

from __future__ import annotations

import functools
import re
import string
from dataclasses import dataclass
from importlib import resources

FALLBACK_LANGUAGE = "en"
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")  # also keeps lookups inside the templates folder


class TemplateError(LookupError):
    """No usable template: missing for every language, or missing a placeholder's value."""


@dataclass(frozen=True)
class Rendered:
    subject: str | None  # None for SMS
    body: str
    language: str  # the language actually used, after any fallback


def file_name(kind: str, channel: str, language: str) -> str:
    return f"{kind}.{language}.sms.txt" if channel == "sms" else f"{kind}.{language}.txt"


@functools.cache
def _load(name: str) -> str | None:
    path = resources.files("sms_notify").joinpath("templates", name)
    if not path.is_file():
        return None
    return path.read_text(encoding="utf-8")


def find(kind: str, channel: str, language: str) -> tuple[str, str]:
    """(language used, template text) for the wanted language or the fallback."""
    for name in (kind, channel, language):
        if not _NAME.match(name):
            raise TemplateError(f"not a template name part: {name!r}")
    for lang in dict.fromkeys((language, FALLBACK_LANGUAGE)):
        text = _load(file_name(kind, channel, lang))
        if text is not None:
            return lang, text
    raise TemplateError(
        f"no template {file_name(kind, channel, language)} "
        f"nor its fallback {file_name(kind, channel, FALLBACK_LANGUAGE)}"
    )


def render(kind: str, channel: str, language: str, params: dict[str, object]) -> Rendered:
    lang, text = find(kind, channel, language)
    try:
        filled = string.Template(text).substitute(params)
    except KeyError as exc:
        name = file_name(kind, channel, lang)
        raise TemplateError(f"template {name} needs a value for ${exc.args[0]}") from None
    except ValueError as exc:
        raise TemplateError(f"template {file_name(kind, channel, lang)}: {exc}") from None
    if channel == "sms":
        return Rendered(subject=None, body=filled.strip(), language=lang)
    subject, _, body = filled.partition("\n")
    return Rendered(subject=subject.strip(), body=body.strip("\n"), language=lang)
