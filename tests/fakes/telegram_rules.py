"""What the fake Bot API refuses, as Telegram refuses it (error_code and description).

`refusal(method, params)` returns None for a request Telegram would take, else
`(status, description)`. The descriptions are Telegram's own ("Bad Request: message is
too long", "Bad Request: BUTTON_DATA_INVALID", "Bad Request: can't parse entities: ...").

One rule is stricter than Telegram, on purpose: Telegram ignores parameters a method
does not have (a misspelt `parse_mod` is silently dropped), and the fake refuses them
(400, "Bad Request: unknown parameter ...; Telegram would ignore it") so that our typos
fail a test instead of changing nothing in production. `PARAMETERS` lists each method's
documented parameters (Bot API 9.x); a method missing from it is unknown (404).
"""

import html
import io
import re
from typing import Any

MESSAGE_MAX_LENGTH = 4096
CAPTION_MAX_LENGTH = 1024
CALLBACK_DATA_MAX_BYTES = 64
PHOTO_MAX_BYTES = 10 * 1024 * 1024
PHOTO_MAX_SIDES = 10_000  # width + height
PHOTO_MAX_RATIO = 20
UPLOAD_MAX_BYTES = 50 * 1024 * 1024

_SEND = {"business_connection_id", "chat_id", "message_thread_id", "direct_messages_topic_id",
         "disable_notification", "protect_content", "allow_paid_broadcast", "message_effect_id",
         "suggested_post_parameters", "reply_parameters", "reply_markup"}
_CAPTION = {"caption", "parse_mode", "caption_entities", "show_caption_above_media", "has_spoiler"}
_INVOICE = {"title", "description", "payload", "provider_token", "currency", "prices", "max_tip_amount",
            "suggested_tip_amounts", "provider_data", "photo_url", "photo_size", "photo_width", "photo_height",
            "need_name", "need_phone_number", "need_email", "need_shipping_address",
            "send_phone_number_to_provider", "send_email_to_provider", "is_flexible"}

PARAMETERS: dict[str, set[str]] = {
    "getMe": set(),
    "logOut": set(),
    "close": set(),
    "getUpdates": {"offset", "limit", "timeout", "allowed_updates"},
    "setWebhook": {"url", "certificate", "ip_address", "max_connections", "allowed_updates", "drop_pending_updates",
                   "secret_token"},
    "deleteWebhook": {"drop_pending_updates"},
    "getWebhookInfo": set(),
    "setMyCommands": {"commands", "scope", "language_code"},
    "deleteMyCommands": {"scope", "language_code"},
    "setMyDescription": {"description", "language_code"},
    "setMyShortDescription": {"short_description", "language_code"},
    "setChatMenuButton": {"chat_id", "menu_button"},
    "getChat": {"chat_id"},
    "getFile": {"file_id"},
    "sendMessage": _SEND | {"text", "parse_mode", "entities", "link_preview_options"},
    "sendPhoto": _SEND | _CAPTION | {"photo"},
    "sendVideo": _SEND | _CAPTION | {"video", "duration", "width", "height", "thumbnail", "cover", "start_timestamp",
                                     "supports_streaming"},
    "sendAnimation": _SEND | _CAPTION | {"animation", "duration", "width", "height", "thumbnail"},
    "sendDocument": _SEND | {"document", "thumbnail", "caption", "parse_mode", "caption_entities",
                             "disable_content_type_detection"},
    "sendMediaGroup": (_SEND - {"reply_markup", "suggested_post_parameters"}) | {"media"},
    "sendChatAction": {"business_connection_id", "chat_id", "message_thread_id", "action"},
    "editMessageText": {"business_connection_id", "chat_id", "message_id", "inline_message_id", "text", "parse_mode",
                        "entities", "link_preview_options", "reply_markup"},
    "editMessageCaption": {"business_connection_id", "chat_id", "message_id", "inline_message_id", "caption",
                           "parse_mode", "caption_entities", "show_caption_above_media", "reply_markup"},
    "editMessageReplyMarkup": {"business_connection_id", "chat_id", "message_id", "inline_message_id",
                               "reply_markup"},
    "deleteMessage": {"chat_id", "message_id"},
    "answerCallbackQuery": {"callback_query_id", "text", "show_alert", "url", "cache_time"},
    "answerInlineQuery": {"inline_query_id", "results", "cache_time", "is_personal", "next_offset", "button"},
    "savePreparedInlineMessage": {"user_id", "result", "allow_user_chats", "allow_bot_chats", "allow_group_chats",
                                  "allow_channel_chats"},
    "sendInvoice": _SEND | _INVOICE | {"start_parameter"},
    "createInvoiceLink": _INVOICE | {"business_connection_id", "subscription_period"},
    "answerPreCheckoutQuery": {"pre_checkout_query_id", "ok", "error_message"},
    "refundStarPayment": {"user_id", "telegram_payment_charge_id"},
    "getStarTransactions": {"offset", "limit"},
    "editUserStarSubscription": {"user_id", "telegram_payment_charge_id", "is_canceled"},
}

# The file each sending method uploads, and whether Telegram takes it as a photo.
_FILE_FIELDS = {"sendPhoto": "photo", "sendVideo": "video", "sendAnimation": "animation", "sendDocument": "document"}

# Telegram's HTML: https://core.telegram.org/bots/api#html-style
_HTML_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a", "tg-emoji",
              "code", "pre", "blockquote"}
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)?([^<>]*)>|<|&(#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);|&")


def utf16_length(text: str) -> int:
    """Telegram counts lengths in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def html_text(text: str) -> str:
    """The text of Telegram-HTML as Telegram parses it; ValueError with Telegram's reason
    (its description after "can't parse entities: ") when it cannot."""
    out: list[str] = []
    stack: list[str] = []
    position = 0
    for match in _TAG.finditer(text):
        out.append(text[position:match.start()])
        position = match.end()
        offset = len(text[:match.start()].encode())
        token = match.group(0)
        if token == "<":
            raise ValueError(f"Unclosed start tag at byte offset {offset}")
        if token == "&":
            raise ValueError(f"Character entity expected at byte offset {offset}")
        if token.startswith("&"):
            out.append(html.unescape(token))
            continue
        closing, name = match.group(1), (match.group(2) or "").lower()
        if not name:
            raise ValueError(f"Empty tag name at byte offset {offset}")
        if closing:
            if not stack:
                raise ValueError(f"Unexpected end tag at byte offset {offset}")
            if stack[-1] != name:
                raise ValueError(f'Can\'t find end tag corresponding to start tag "{stack[-1]}"')
            stack.pop()
        else:
            if name not in _HTML_TAGS:
                raise ValueError(f'Unsupported start tag "{name}" at byte offset {offset}')
            stack.append(name)
    if stack:
        raise ValueError(f'Can\'t find end tag corresponding to start tag "{stack[-1]}"')
    out.append(text[position:])
    return "".join(out)


def _visible_text(value: Any, parse_mode: Any) -> str:
    text = str(value)
    if str(parse_mode or "").upper() == "HTML":
        return html_text(text)
    return text


def _buttons(reply_markup: Any) -> list[dict[str, Any]]:
    if not isinstance(reply_markup, dict):
        return []
    rows = reply_markup.get("inline_keyboard") or reply_markup.get("keyboard") or []
    return [button for row in rows if isinstance(row, list) for button in row if isinstance(button, dict)]


def _is_private(chat_id: Any) -> bool:
    # Users have positive ids; groups, supergroups and channels negative ones (or @name).
    try:
        return int(chat_id) > 0
    except (TypeError, ValueError):
        return False


def _photo_refusal(content: bytes) -> str | None:
    from PIL import Image, UnidentifiedImageError

    if len(content) > PHOTO_MAX_BYTES:
        return "Bad Request: PHOTO_SAVE_FILE_INVALID"
    try:
        with Image.open(io.BytesIO(content)) as image:
            width, height = image.size
    except (UnidentifiedImageError, OSError):
        return "Bad Request: IMAGE_PROCESS_FAILED"
    if width + height > PHOTO_MAX_SIDES or max(width, height) > PHOTO_MAX_RATIO * max(1, min(width, height)):
        return "Bad Request: PHOTO_INVALID_DIMENSIONS"
    return None


def _attached_names(params: dict[str, Any]) -> set[str]:
    """Upload fields named by an `attach://<name>` elsewhere in the request (media groups, thumbnails)."""
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, str) and value.startswith("attach://"):
            found.add(value[len("attach://"):])
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(params)
    return found


def refusal(method: str, params: dict[str, Any], *, file_type: Any) -> tuple[int, str] | None:
    """(status, description) when Telegram refuses this call, else None."""
    known = PARAMETERS.get(method)
    if known is None:
        return 404, "Not Found"
    files = [value for value in params.values() if isinstance(value, file_type)]
    if sum(file.size for file in files) > UPLOAD_MAX_BYTES:
        return 413, "Request Entity Too Large"
    unknown = sorted(set(params) - known - _attached_names(params))
    if unknown:
        return 400, f"Bad Request: unknown parameter {unknown[0]!r} of {method}; Telegram would ignore it"

    if method in ("sendMessage", "editMessageText"):
        if "chat_id" not in params and method == "sendMessage":
            return 400, "Bad Request: chat_id is empty"
        try:
            text = _visible_text(params.get("text", ""), params.get("parse_mode"))
        except ValueError as exc:
            return 400, f"Bad Request: can't parse entities: {exc}"
        if not text.strip():
            return 400, "Bad Request: message text is empty"
        if utf16_length(text) > MESSAGE_MAX_LENGTH:
            return 400, "Bad Request: message is too long"
    captions = [(params.get("caption"), params.get("parse_mode"))]
    if method == "sendMediaGroup" and isinstance(params.get("media"), list):
        captions += [(m.get("caption"), m.get("parse_mode")) for m in params["media"] if isinstance(m, dict)]
    for caption, parse_mode in captions:
        if caption is None:
            continue
        try:
            text = _visible_text(caption, parse_mode)
        except ValueError as exc:
            return 400, f"Bad Request: can't parse entities: {exc}"
        if utf16_length(text) > CAPTION_MAX_LENGTH:
            return 400, "Bad Request: message caption is too long"

    for button in _buttons(params.get("reply_markup")):
        data = button.get("callback_data")
        if data is not None and not 1 <= len(str(data).encode()) <= CALLBACK_DATA_MAX_BYTES:
            return 400, "Bad Request: BUTTON_DATA_INVALID"
        if "web_app" in button and "chat_id" in params and not _is_private(params["chat_id"]):
            return 400, "Bad Request: BUTTON_TYPE_INVALID"

    field = _FILE_FIELDS.get(method)
    upload = params.get(field) if field else None
    if method == "sendPhoto" and isinstance(upload, file_type):
        problem = _photo_refusal(upload.content)
        if problem:
            return 400, problem
    return None
