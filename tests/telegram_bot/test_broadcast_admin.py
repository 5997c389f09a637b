"""Broadcasts in the admin: compose (checked as Telegram checks it), see the recipients,
preview to yourself, start, watch the progress, pause, resume, cancel."""

import io

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django_q.models import OrmQ

from accounts.models import User
from telegram_bot.broadcasts.models import Broadcast, BroadcastDelivery
from telegram_bot.broadcasts.services import broadcast_draft_save
from tests.factories import BroadcastFactory, recipients_create
from tests.telegram_bot.broadcast_helpers import SEND_TASK, run_until_done
from tests.telegram_bot.queue import queued

pytestmark = pytest.mark.django_db

ADD = "/admin/telegram_bot/broadcast/add/"


@pytest.fixture
def staff(staff_user, fake_telegram, settings):
    settings.MINI_APP_URL = "https://app.nanogen.test/"
    settings.BROADCAST_RATE_PER_SECOND = 10_000
    staff_user.telegram_id = 5_550_001
    staff_user.save(update_fields=["telegram_id"])
    return staff_user


@pytest.fixture
def staff_client(staff) -> Client:
    client = Client()
    client.force_login(staff)
    return client


def form(**fields):
    return {"title": "December news", "text": "<b>New model</b> in NanoGen!", "button_kind": "", "button_text": "",
            "button_url": "", "audience": "everyone", "active_days": "", "language": "", **fields}


def change_url(broadcast) -> str:
    return f"/admin/telegram_bot/broadcast/{broadcast.pk}/change/"


def action(client, broadcast, name):
    return client.post(f"/admin/telegram_bot/broadcast/{broadcast.pk}/{name}/run/", follow=True)


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 200, 10)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_staff_compose_a_draft(staff_client, staff):
    response = staff_client.post(ADD, form(button_kind="mini_app", button_text="Open"))
    assert response.status_code == 302, response.content.decode()[:2000]
    broadcast = Broadcast.objects.get()
    assert (broadcast.status, broadcast.created_by, broadcast.previewed_at) == ("draft", staff, None)


@pytest.mark.parametrize(("fields", "error"), [
    ({"text": "<b>unclosed"}, "The tag &lt;b&gt; is never closed."),
    ({"text": "Tom & Jerry"}, "write &amp;amp; for the sign"),
    ({"text": "<h1>Big</h1>"}, "Telegram does not support the tag &lt;h1&gt;."),
    ({"text": "a" * 4097}, "The text is 4097 characters long, Telegram takes at most 4096."),
    ({"text": ""}, "The text is empty."),
    ({"button_kind": "url", "button_text": "Go", "button_url": ""}, "A link button needs an http(s) address."),
    ({"button_kind": "url", "button_url": "https://nanogen.test"}, "The button needs a text."),
    ({"audience": "active"}, "Say how many days count as active."),
])
def test_what_telegram_would_refuse_is_refused_in_the_form(staff_client, fields, error):
    response = staff_client.post(ADD, form(**fields))
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not Broadcast.objects.exists()


def test_a_photo_caption_is_at_most_1024_characters(staff_client):
    photo = SimpleUploadedFile("news.png", png(), content_type="image/png")
    response = staff_client.post(ADD, form(text="a" * 1025, photo=photo))
    assert "The text is 1025 characters long, Telegram takes at most 1024." in response.content.decode()
    photo = SimpleUploadedFile("news.png", png(), content_type="image/png")
    assert staff_client.post(ADD, form(text="", photo=photo)).status_code == 302


def test_the_page_shows_how_many_the_audience_reaches(staff_client):
    recipients_create(7)
    recipients_create(2, first_telegram_id=400_000, is_reachable=False)
    broadcast = BroadcastFactory.create()
    page = staff_client.get(change_url(broadcast)).content.decode()
    # The 7 who can be written to, and the staff member's own Telegram account.
    assert '<td class="progress-recipients">8</td>' in page
    assert "Start sending to 8 users" in page


def test_preview_needs_the_staff_members_telegram_id(staff_client, staff, fake_telegram):
    staff.telegram_id = None
    staff.save(update_fields=["telegram_id"])
    broadcast = BroadcastFactory.create(previewed_at=None)
    assert "Your staff account has no Telegram id" in staff_client.get(change_url(broadcast)).content.decode()
    response = action(staff_client, broadcast, "preview")
    assert any("Your staff account has no Telegram id" in m for m in messages_of(response))
    assert not fake_telegram.calls_to("sendMessage")
    broadcast.refresh_from_db()
    assert broadcast.previewed_at is None


def test_the_preview_goes_to_the_staff_members_chat_as_users_will_get_it(staff_client, staff, fake_telegram):
    broadcast = BroadcastFactory.create(previewed_at=None, button_kind="url", button_text="Read",
                                 button_url="https://nanogen.test/blog")
    response = action(staff_client, broadcast, "preview")
    assert messages_of(response) == [
        "The preview is in your Telegram chat with the bot. Check it, then start sending."]
    call = fake_telegram.last("sendMessage")
    assert (int(call["chat_id"]), call["text"], call["parse_mode"]) == (
        5_550_001, "<b>News</b>: something new in NanoGen", "HTML")
    assert call["reply_markup"] == {"inline_keyboard": [[{"text": "Read", "url": "https://nanogen.test/blog"}]]}
    broadcast.refresh_from_db()
    assert broadcast.previewed_at and broadcast.previewed_by == staff


def test_the_preview_uploads_the_photo_once_and_users_get_its_file_id(staff_client, fake_telegram,
                                                                     django_capture_on_commit_callbacks):
    recipients_create(2)
    photo = SimpleUploadedFile("news.png", png(), content_type="image/png")
    staff_client.post(ADD, form(text="<i>Look</i>", photo=photo))
    broadcast = Broadcast.objects.get()
    action(staff_client, broadcast, "preview")
    upload = fake_telegram.last("sendPhoto")
    assert upload["photo"].content == png() and upload["caption"] == "<i>Look</i>"
    broadcast.refresh_from_db()
    assert broadcast.photo_file_id.startswith("photo-")

    with django_capture_on_commit_callbacks(execute=True):
        action(staff_client, broadcast, "start")
    run_until_done(broadcast)
    sent = fake_telegram.calls_to("sendPhoto")[1:]  # the two users and the staff member's own account
    assert [call["photo"] for call in sent] == [broadcast.photo_file_id] * 3


def test_a_preview_telegram_refuses_says_why(staff_client, fake_telegram):
    fake_telegram.fail("sendMessage", error_code=403, description="Forbidden: bot can't initiate conversation")
    broadcast = BroadcastFactory.create(previewed_at=None)
    response = action(staff_client, broadcast, "preview")
    assert messages_of(response) == [
        "Telegram refused: the bot cannot write to you. Open the bot and press Start, then try again."]
    broadcast.refresh_from_db()
    assert broadcast.previewed_at is None


def test_starting_needs_a_preview_of_the_message_as_it_is(staff_client, fake_telegram):
    recipients_create(3)
    broadcast = BroadcastFactory.create(previewed_at=None)
    response = action(staff_client, broadcast, "start")
    assert messages_of(response) == [
        "Send yourself the preview first: it shows the message as users will get it."]
    assert not BroadcastDelivery.objects.exists()

    action(staff_client, broadcast, "preview")
    # An edit after the preview needs a new one.
    staff_client.post(change_url(broadcast), form(text="<b>Changed</b>"))
    broadcast.refresh_from_db()
    assert broadcast.previewed_at is None
    # A title is not the message: it keeps the preview.
    action(staff_client, broadcast, "preview")
    staff_client.post(change_url(broadcast), form(text="<b>Changed</b>", title="Renamed"))
    renamed = Broadcast.objects.get(pk=broadcast.pk)
    assert renamed.previewed_at is not None and renamed.title == "Renamed"


def test_start_freezes_the_audience_and_hands_it_to_the_worker(staff_client, staff, fake_telegram,
                                                              django_capture_on_commit_callbacks):
    users = recipients_create(4)
    broadcast = BroadcastFactory.create()
    with django_capture_on_commit_callbacks(execute=True):
        response = action(staff_client, broadcast, "start")
    # The four users and the staff member's own Telegram account.
    assert messages_of(response) == ["Sending to 5 users."]
    broadcast.refresh_from_db()
    assert (broadcast.status, broadcast.recipients, broadcast.started_by) == ("sending", 5, staff)
    assert set(BroadcastDelivery.objects.values_list("chat_id", flat=True)) == {
        *(u.telegram_id for u in users), staff.telegram_id}
    assert [task["kwargs"] for task in queued(SEND_TASK)] == [{"broadcast_id": broadcast.pk}]
    # A user who joins now is not in it.
    recipients_create(1, first_telegram_id=500_000)
    assert BroadcastDelivery.objects.count() == 5
    # Started twice: refused.
    assert messages_of(action(staff_client, broadcast, "start")) == ["Only a draft can be started."]


def test_the_progress_and_the_buttons_follow_the_state(staff_client, fake_telegram,
                                                      django_capture_on_commit_callbacks):
    recipients_create(4)  # and the staff member's own account: 5
    broadcast = BroadcastFactory.create()
    fake_telegram.fail("sendMessage", error_code=403, description="Forbidden: bot was blocked by the user")
    fake_telegram.fail("sendMessage", error_code=400, description="Bad Request: chat not found")
    with django_capture_on_commit_callbacks(execute=True):
        action(staff_client, broadcast, "start")
    page = staff_client.get(change_url(broadcast)).content.decode()
    assert 'http-equiv="refresh"' in page and 'name="pause"' in page and 'name="start"' not in page

    assert messages_of(action(staff_client, broadcast, "pause")) == ["Paused."]
    page = staff_client.get(change_url(broadcast)).content.decode()
    assert 'name="resume"' in page and 'name="pause"' not in page
    assert '<td class="progress-left">5</td>' in page

    with django_capture_on_commit_callbacks(execute=True):
        assert messages_of(action(staff_client, broadcast, "resume")) == ["Sending again."]
    run_until_done(broadcast)
    page = staff_client.get(change_url(broadcast)).content.decode()
    for name, value in [("recipients", 5), ("sent", 3), ("failed", 1), ("blocked", 1), ("left", 0)]:
        assert f'<td class="progress-{name}">{value}</td>' in page
    assert 'name="cancel"' not in page and 'http-equiv="refresh"' not in page
    # Nothing of a sent broadcast can be edited or deleted.
    sent_page = staff_client.get(change_url(broadcast)).content
    assert b'name="text"' not in sent_page and b'name="_save"' not in sent_page
    assert staff_client.post(f"/admin/telegram_bot/broadcast/{broadcast.pk}/delete/", {"post": "yes"}
                             ).status_code == 403


def test_a_form_opened_before_the_start_cannot_turn_it_back_into_a_draft(staff_client, staff,
                                                                         django_capture_on_commit_callbacks):
    recipients_create(2)
    broadcast = BroadcastFactory.create()
    assert b'name="_save"' in staff_client.get(change_url(broadcast)).content  # a second staff member's form
    with django_capture_on_commit_callbacks(execute=True):
        action(staff_client, broadcast, "start")
    # They save it now: refused, nothing written.
    assert staff_client.post(change_url(broadcast), form(text="<b>overwritten</b>")).status_code == 403
    # And should the save pass that check just before the start commits, it writes nothing either.
    seen_as_draft = Broadcast.objects.get(pk=broadcast.pk)
    seen_as_draft.status = Broadcast.Status.DRAFT
    seen_as_draft.text = "<b>overwritten</b>"
    assert not broadcast_draft_save(broadcast=seen_as_draft, changed_fields=["text"], staff=staff)
    broadcast.refresh_from_db()
    assert (broadcast.status, broadcast.recipients) == ("sending", 3)
    assert broadcast.text == "<b>News</b>: something new in NanoGen"


def test_cancel_a_draft_or_a_sending_broadcast(staff_client, fake_telegram, django_capture_on_commit_callbacks):
    recipients_create(2)
    draft = BroadcastFactory.create()
    assert messages_of(action(staff_client, draft, "cancel")) == ["Cancelled."]
    sending = BroadcastFactory.create()
    with django_capture_on_commit_callbacks(execute=True):
        action(staff_client, sending, "start")
    assert messages_of(action(staff_client, sending, "cancel")) == ["Cancelled."]
    run_until_done(sending)
    assert not fake_telegram.calls_to("sendMessage")
    assert messages_of(action(staff_client, sending, "resume")) == ["Nothing changed: the broadcast is cancelled."]


def test_starting_needs_the_send_permission(fake_telegram, settings):
    recipients_create(2)
    editor = User.objects.create_user(email="editor@example.com", password="x", is_staff=True)
    editor.user_permissions.set(Permission.objects.filter(codename__in=["view_broadcast", "change_broadcast",
                                                                        "add_broadcast"]))
    client = Client()
    client.force_login(editor)
    broadcast = BroadcastFactory.create()
    assert 'name="start"' not in client.get(change_url(broadcast)).content.decode()
    assert client.post(f"/admin/telegram_bot/broadcast/{broadcast.pk}/start/run/").status_code == 403
    assert Broadcast.objects.get(pk=broadcast.pk).status == "draft"
    assert not OrmQ.objects.exists()


def test_actions_are_posts_only(staff_client):
    broadcast = BroadcastFactory.create()
    assert staff_client.get(f"/admin/telegram_bot/broadcast/{broadcast.pk}/start/run/").status_code == 405


def test_the_deliveries_list_renders(staff_client, fake_telegram, django_capture_on_commit_callbacks):
    recipients_create(2)
    broadcast = BroadcastFactory.create()
    with django_capture_on_commit_callbacks(execute=True):
        action(staff_client, broadcast, "start")
    page = staff_client.get("/admin/telegram_bot/broadcastdelivery/")
    assert page.status_code == 200
    assert staff_client.get("/admin/telegram_bot/broadcastdelivery/add/").status_code == 403
    assert staff_client.get("/admin/telegram_bot/broadcast/").status_code == 200
