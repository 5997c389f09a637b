"""Broadcast texts are checked as Telegram's HTML parse mode checks them, before anything is sent."""

import pytest

from telegram_bot.broadcasts.html import telegram_html_check

VALID = [
    "plain text",
    "<b>bold</b>, <strong>bold</strong>, <i>italic</i>, <em>italic</em>, <u>u</u>, <ins>u</ins>",
    "<s>s</s> <strike>s</strike> <del>s</del> <span class=\"tg-spoiler\">x</span> <tg-spoiler>x</tg-spoiler>",
    "<b>bold <i>italic bold <s>x <span class='tg-spoiler'>y</span></s> <u>z</u></i> bold</b>",
    '<a href="https://example.com/?a=1&amp;b=2">link</a> <a href="tg://user?id=123">mention</a>',
    '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>',
    '<tg-time unix="1647531900" format="wDT">22:45 tomorrow</tg-time> <tg-time unix="1647531900">now</tg-time>',
    "<code>x &lt; y</code> <pre>block</pre>",
    '<pre><code class="language-python">print("hi")</code></pre>',
    "<blockquote>quote</blockquote><blockquote expandable>long quote</blockquote>",
    "<b><blockquote>bold quote</blockquote></b> <blockquote><b>x</b><a href=\"https://e.com\">y</a></blockquote>",
    "<B>upper-case tags</B> and entities: &lt;&gt;&amp;&quot; &#169; &#x1F600;",
    "<a href=\"https://e.com\"><b>bold link</b></a> <b><a href=\"https://e.com\">link in bold</a></b>",
]


@pytest.mark.parametrize("text", VALID)
def test_what_telegram_takes_passes(text):
    assert telegram_html_check(text).errors == []


INVALID = [
    ("<h1>title</h1>", "Telegram does not support the tag <h1>."),
    ("<b>open", "The tag <b> is never closed."),
    ("<b><i>crossed</b></i>", "</b> where </i> was expected."),
    ("close</b>", "</b> closes no open tag."),
    ("1 < 2", "a “<” that starts no tag"),
    ("Tom & Jerry", "a “&” that starts no entity"),
    ("&nbsp;", "a “&” that starts no entity"),
    ("&#0;", "a “&” that starts no entity"),
    ("&#xD800;", "a “&” that starts no entity"),
    ("2 > 1", "write &gt; for the sign"),
    ("<span>x</span>", '<span> needs class="tg-spoiler".'),
    ('<a href="javascript:alert(1)">x</a>', "A link needs an href"),
    ("<a>x</a>", "A link needs an href"),
    ("<tg-emoji>x</tg-emoji>", "<tg-emoji> needs a numeric emoji-id."),
    ('<tg-time unix="1" format="x">t</tg-time>', "<tg-time> has an unknown format."),
    ("<code><b>x</b></code>", "Nothing can be put inside <code>."),
    ("<pre><i>x</i></pre>", "Nothing can be put inside <pre>."),
    ('<code class="language-go">x</code>', 'Only <code class="language-…"> directly inside <pre>'),
    ("<blockquote><blockquote>x</blockquote></blockquote>", "A blockquote cannot be inside another."),
    ('<a href="https://e.com"><a href="https://f.com">x</a></a>', "<a> cannot be inside <a>."),
    ('<a href="https://e.com"><code>x</code></a>', "<code> cannot be inside <a>."),
    ("<br/>", "Telegram does not support the tag <br>."),
    ("<b/>", "<b/> is not allowed"),
    ("", "The text is empty."),
    ("  <b> </b> ", "The text is empty."),
]


@pytest.mark.parametrize(("text", "problem"), INVALID)
def test_what_telegram_refuses_is_named(text, problem):
    errors = telegram_html_check(text).errors
    assert len(errors) == 1 and problem in errors[0], errors


def test_the_position_of_the_problem_is_given():
    assert telegram_html_check("ok <x>").errors == ["Position 4: Telegram does not support the tag <x>."]


def test_the_length_is_what_telegram_shows_in_utf16_units():
    assert telegram_html_check("<b>" + "a" * 4096 + "</b>").errors == []
    assert telegram_html_check("a" * 4097).errors == [
        "The text is 4097 characters long, Telegram takes at most 4096."]
    # An emoji outside the BMP is two UTF-16 units; an entity is one character.
    assert telegram_html_check("😀" * 2048).length == 4096
    assert telegram_html_check("😀" * 2049).errors
    assert telegram_html_check("&amp;" * 4096).errors == []
    # Leading and trailing spaces are dropped by Telegram.
    assert telegram_html_check("  x  ").length == 1


def test_a_caption_is_at_most_1024_and_may_be_empty():
    assert telegram_html_check("a" * 1024, limit=1024).errors == []
    assert telegram_html_check("a" * 1025, limit=1024).errors == [
        "The text is 1025 characters long, Telegram takes at most 1024."]
    assert telegram_html_check("", limit=1024, allow_empty=True).errors == []
