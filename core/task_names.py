"""Every Django-Q2 task of the project, by the dotted name the queue stores.

Defined once, here, so that a lower app can hand work up to a higher one by name
without importing it (generations enqueues the bot's notification), and a rename
is one edit. A system check (`core.checks.task_names_check`) imports each name at
start-up: a task that moved or was renamed stops `manage.py check` and every
process, instead of failing in the worker on its first delivery.
"""

from typing import Final

# generations.tasks
GENERATION_RUN: Final = "generations.tasks.generation_run"
GENERATION_ATTEMPT: Final = "generations.tasks.generation_attempt"
GENERATION_SWEEP: Final = "generations.tasks.generation_sweep"

# telegram_bot.tasks
GENERATION_NOTIFY: Final = "telegram_bot.tasks.generation_notify"
GENERATION_PROGRESS: Final = "telegram_bot.tasks.generation_progress"
RESULT_FILES_SEND: Final = "telegram_bot.tasks.result_files_send"
ADMIN_ALERT_SEND: Final = "telegram_bot.tasks.admin_alert_send"
PAYMENT_ISSUE_ALERT: Final = "telegram_bot.tasks.payment_issue_alert"
WITHDRAWAL_REQUESTED_ALERT: Final = "telegram_bot.tasks.withdrawal_requested_alert"
WITHDRAWAL_DECIDED_NOTIFY: Final = "telegram_bot.tasks.withdrawal_decided_notify"
PAYMENT_REFUNDED_OUTSIDE_ALERT: Final = "telegram_bot.tasks.payment_refunded_outside_alert"
UPDATE_PROCESS: Final = "telegram_bot.tasks.update_process"
UPDATES_SWEEP: Final = "telegram_bot.tasks.updates_sweep"
ALBUM_FINISH: Final = "telegram_bot.tasks.album_finish"
CHAT_INPUTS_SWEEP: Final = "telegram_bot.tasks.chat_inputs_sweep"
BROADCAST_SEND: Final = "telegram_bot.tasks.broadcast_send"
BROADCASTS_RESUME: Final = "telegram_bot.tasks.broadcasts_resume"

# payments.tasks
STARS_RECONCILE_DAILY: Final = "payments.tasks.stars_reconcile_daily"

TASK_NAMES: Final = (
    GENERATION_RUN,
    GENERATION_ATTEMPT,
    GENERATION_SWEEP,
    GENERATION_NOTIFY,
    GENERATION_PROGRESS,
    RESULT_FILES_SEND,
    ADMIN_ALERT_SEND,
    PAYMENT_ISSUE_ALERT,
    WITHDRAWAL_REQUESTED_ALERT,
    WITHDRAWAL_DECIDED_NOTIFY,
    PAYMENT_REFUNDED_OUTSIDE_ALERT,
    UPDATE_PROCESS,
    UPDATES_SWEEP,
    ALBUM_FINISH,
    CHAT_INPUTS_SWEEP,
    STARS_RECONCILE_DAILY,
    BROADCAST_SEND,
    BROADCASTS_RESUME,
)
