"""Django-Q2 tasks of the bot, run by the worker (`manage.py qcluster`). Each only
calls a service; lower apps enqueue them by dotted name."""

from core.logging import log_context
from core.task_names import ALBUM_FINISH, UPDATE_PROCESS
from telegram_bot import services
from telegram_bot.broadcasts import services as broadcasts
from telegram_bot.hooks import task_enqueue


def generation_notify(generation_id: int) -> str:
    """Tell the user that their generation finished (enqueued by generations on
    every final state). Returns the outcome, which Django-Q2 keeps as the result."""
    with log_context(generation_id=generation_id):
        return services.generation_notification_send(generation_id=generation_id).value


def generation_progress(generation_id: int) -> str:
    """Bring the status message of a generation started in the chat up to date
    (enqueued by generations when a worker takes the generation up, and by a retry)."""
    with log_context(generation_id=generation_id):
        return services.status_message_sync(generation_id=generation_id).value


def result_files_send(generation_id: int, chat_id: int, position: int | None = None, attempt: int = 1) -> str:
    """Send a result's original as a document (the "File" button, enqueued by the bot)."""
    with log_context(generation_id=generation_id):
        return services.result_files_send(generation_id=generation_id, chat_id=chat_id, position=position,
                                          attempt=attempt).value


def admin_alert_send(text: str, attempt: int = 1) -> bool:
    """Send an alert to ADMIN_ALERT_CHAT_ID (enqueued by `services.admin_alert`)."""
    return services.admin_alert_deliver(text=text, attempt=attempt)


def payment_issue_alert(issue_id: int) -> bool:
    return services.admin_alert_deliver(text=services.payment_issue_alert_text(issue_id=issue_id))


def withdrawal_requested_alert(withdrawal_id: int) -> bool:
    return services.admin_alert_deliver(text=services.withdrawal_requested_alert_text(withdrawal_id=withdrawal_id))


def withdrawal_decided_notify(withdrawal_id: int, attempt: int = 1) -> bool:
    return services.user_message_withdrawal_decided(withdrawal_id=withdrawal_id, attempt=attempt)


def broadcast_send(broadcast_id: int) -> str:
    """One run of sending a broadcast (enqueued when staff start or resume it, by the
    previous run, and by the resume schedule); returns the run's outcome."""
    with log_context(broadcast_id=broadcast_id):
        return broadcasts.broadcast_run(broadcast_id=broadcast_id).value


def broadcasts_resume() -> int:
    """The resume schedule: sending broadcasts whose worker died go to another one."""
    return broadcasts.broadcasts_resume()
def payment_refunded_outside_alert(payment_id: int) -> bool:
    return services.admin_alert_deliver(text=services.payment_refunded_outside_alert_text(payment_id=payment_id))


def update_process(update_id: int) -> str:
    """Process a stored Telegram update the bot did not finish (enqueued by the sweep
    and by staff's retry). Returns the outcome: processed, failed or skipped."""
    from telegram_bot.intake import update_process_now

    with log_context(update_id=update_id):
        return update_process_now(update_id=update_id)


def updates_sweep() -> dict[str, int]:
    """Every minute (schedule `telegram_bot: updates sweep`): hand every stored update
    that is due (a failed attempt's retry, a claim whose process died, one the bot
    never took on) to a worker, and prune old processed ones. A duplicate task is
    harmless: the update's claim lets one through."""
    due = services.updates_due()
    for update_id in due:
        task_enqueue(UPDATE_PROCESS, update_id=update_id)
    return {"enqueued": len(due), "pruned": services.updates_prune()}


def album_finish(album_id: int) -> str:
    """Download the photos of a complete album (or of one photo) the user sent and start
    its generation (enqueued by the bot, and by the sweep). Returns the outcome."""
    with log_context(album_id=album_id):
        return services.album_finish(album_id=album_id).value


def chat_inputs_sweep() -> dict[str, int]:
    """Every minute (schedule `telegram_bot: chat inputs sweep`): hand every album that
    is due (or whose worker died) to a worker, forget images that waited too long for
    a text, prune old finished albums. A duplicate task is harmless: the album's claim
    lets one through."""
    due = services.albums_due()
    for album_id in due:
        task_enqueue(ALBUM_FINISH, album_id=album_id)
    return {"enqueued": len(due), "expired": services.pending_images_expire(), "pruned": services.albums_prune()}
