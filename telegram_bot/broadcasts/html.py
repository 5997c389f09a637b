"""Telegram's HTML parse mode, checked before anything is sent.

The rules are the Bot API's ("Formatting options", HTML style): only its tags,
each closed in order; `<`, `>` and `&` outside tags and entities escaped; only the
named entities &lt; &gt; &amp; &quot; and numeric ones; entities nested as Telegram
allows (bold, italic, underline, strikethrough and spoiler inside anything but
code and pre; nothing else inside code, pre or a link of another link; no
blockquote in a blockquote); and the text Telegram shows, counted in UTF-16 code
units as Telegram counts, at most 4096 for a message or 1024 for a photo caption.
A broadcast that fails here would fail for every recipient.
"""

import re
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

MESSAGE_MAX_LENGTH = 4096
CAPTION_MAX_LENGTH = 1024

_VALUE = r"(?:\"[^\"]*\"|'[^']*'|[^\s\"'=<>`]+)"
_TAG = re.compile(rf"<(/?)([A-Za-z][A-Za-z0-9-]*)((?:\s+[A-Za-z][A-Za-z0-9_-]*(?:\s*=\s*{_VALUE})?)*)\s*(/?)>")
_ATTRIBUTE = re.compile(rf"([A-Za-z][A-Za-z0-9_-]*)(?:\s*=\s*({_VALUE}))?")
_ENTITY = re.compile(r"&(?:#([0-9]{1,7})|#[xX]([0-9A-Fa-f]{1,6})|(lt|gt|amp|quot));")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}

# Tag -> the entity it makes (aliases share one).
_ENTITIES = {
    "b": "bold", "strong": "bold",
    "i": "italic", "em": "italic",
    "u": "underline", "ins": "underline",
    "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
    "span": "spoiler", "tg-spoiler": "spoiler",
    "a": "link", "tg-emoji": "custom_emoji", "tg-time": "date_time",
    "code": "code", "pre": "pre", "blockquote": "blockquote",
}
# Entities that may contain others and be inside others (but code and pre).
_STYLES = {"bold", "italic", "underline", "strikethrough", "spoiler"}
_LINK_SCHEMES = ("http://", "https://", "tg://")
_TIME_FORMAT = re.compile(r"^(r|w?[dD]?[tT]?)$")


@dataclass
class HtmlCheck:
    """What the check found: `errors` (empty when Telegram will take the text) and
    the length of the text Telegram shows."""

    errors: list[str] = field(default_factory=list)
    length: int = 0


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def telegram_html_check(text: str, *, limit: int = MESSAGE_MAX_LENGTH, allow_empty: bool = False) -> HtmlCheck:
    """Check `text` as Telegram's HTML parse mode would, against `limit` (4096 for a
    message, 1024 for a caption); an empty text only when `allow_empty` (a photo)."""
    check = HtmlCheck()
    visible: list[str] = []
    stack: list[tuple[str, str]] = []  # (tag, entity) of the open tags
    position = 0
    while position < len(text):
        char = text[position]
        if char == "<":
            tag = _TAG.match(text, position)
            if tag is None:
                check.errors.append(_("Position %(position)d: a “<” that starts no tag; write &lt; for the sign.")
                                    % {"position": position + 1})
                return check
            problem = _tag_apply(tag, stack, visible)
            if problem:
                check.errors.append(_("Position %(position)d: %(problem)s") % {"position": position + 1,
                                                                                "problem": problem})
                return check
            position = tag.end()
        elif char == "&":
            entity = _ENTITY.match(text, position)
            decoded = _entity_text(entity) if entity else None
            if entity is None or decoded is None:
                check.errors.append(_("Position %(position)d: a “&” that starts no entity; write &amp; for the sign. "
                                      "Only &lt; &gt; &amp; &quot; and numeric entities exist.")
                                    % {"position": position + 1})
                return check
            visible.append(decoded)
            position = entity.end()
        elif char == ">":
            check.errors.append(_("Position %(position)d: write &gt; for the sign “>”.") % {"position": position + 1})
            return check
        else:
            visible.append(char)
            position += 1
    if stack:
        check.errors.append(_("The tag <%(tag)s> is never closed.") % {"tag": stack[-1][0]})
        return check
    shown = "".join(visible).strip()
    check.length = utf16_length(shown)
    if not shown and not allow_empty:
        check.errors.append(_("The text is empty."))
    if check.length > limit:
        check.errors.append(_("The text is %(length)d characters long, Telegram takes at most %(limit)d.")
                            % {"length": check.length, "limit": limit})
    return check


def _entity_text(entity: re.Match[str]) -> str | None:
    decimal, hexadecimal, named = entity.groups()
    if named:
        return _NAMED[named]
    code = int(decimal) if decimal else int(hexadecimal, 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code)


def _attributes(raw: str) -> dict[str, str]:
    values = {}
    for name, value in _ATTRIBUTE.findall(raw):
        if value[:1] in "\"'":
            value = value[1:-1]
        values[name.lower()] = value
    return values


def _tag_apply(tag: re.Match[str], stack: list[tuple[str, str]], visible: list[str]) -> str | None:
    """Open or close `tag` on the stack; a problem (translated) when Telegram would refuse it."""
    closing, name, raw_attributes, self_closing = tag.group(1), tag.group(2).lower(), tag.group(3), tag.group(4)
    entity = _ENTITIES.get(name)
    if entity is None:
        return _("Telegram does not support the tag <%(tag)s>.") % {"tag": name}
    if closing:
        if not stack:
            return _("</%(tag)s> closes no open tag.") % {"tag": name}
        if stack[-1][0] != name:
            return _("</%(tag)s> where </%(open)s> was expected.") % {"tag": name, "open": stack[-1][0]}
        stack.pop()
        return None
    if self_closing:
        return _("<%(tag)s/> is not allowed: write <%(tag)s>…</%(tag)s>.") % {"tag": name}
    attributes = _attributes(raw_attributes)
    problem = _attributes_problem(name, attributes, stack) or _nesting_problem(name, entity, stack)
    if problem:
        return problem
    stack.append((name, entity))
    return None


def _attributes_problem(name: str, attributes: dict[str, str], stack: list[tuple[str, str]]) -> str | None:
    if name == "span" and attributes.get("class") != "tg-spoiler":
        return _('<span> needs class="tg-spoiler".')
    if name == "a":
        href = attributes.get("href", "").strip()
        if not href.lower().startswith(_LINK_SCHEMES):
            return _("A link needs an href that starts with https://, http:// or tg://.")
    if name == "tg-emoji" and not attributes.get("emoji-id", "").isdigit():
        return _("<tg-emoji> needs a numeric emoji-id.")
    if name == "tg-time":
        if not attributes.get("unix", "").isdigit():
            return _("<tg-time> needs a unix time.")
        if not _TIME_FORMAT.match(attributes.get("format", "")):
            return _("<tg-time> has an unknown format.")
    if name == "code" and "class" in attributes:
        in_pre = bool(stack) and stack[-1][0] == "pre"
        if not in_pre or not attributes["class"].startswith("language-"):
            return _('Only <code class="language-…"> directly inside <pre> may name a language.')
    return None


def _nesting_problem(name: str, entity: str, stack: list[tuple[str, str]]) -> str | None:
    for open_tag, open_entity in stack:
        if open_entity in ("code", "pre"):
            # The one exception: <pre><code class="language-…"> names the block's language.
            if not (name == "code" and open_tag == "pre" and stack[-1][0] == "pre"):
                return _("Nothing can be put inside <%(tag)s>.") % {"tag": open_tag}
        elif entity == "blockquote" and open_entity == "blockquote":
            return _("A blockquote cannot be inside another.")
        elif entity not in _STYLES and entity != "blockquote" and open_entity not in _STYLES | {"blockquote"}:
            # Links, custom emoji and times contain no such entity, nor code or pre.
            return _("<%(tag)s> cannot be inside <%(open)s>.") % {"tag": name, "open": open_tag}
    return None
