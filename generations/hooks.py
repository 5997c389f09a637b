"""Events of a generation that a higher app (the bot) reacts to (core.hooks): generations
must not import telegram_bot, so the bot registers its listeners in `AppConfig.ready`.
A listener that fails is logged: a cosmetic message that cannot be queued must not fail
a worker step."""

from core.hooks import Hooks

GENERATION_CLAIMED = "generation_claimed"  # generation_id: a worker took it up (pending -> processing)

EVENTS = (GENERATION_CLAIMED,)

generations_hooks = Hooks("generations", EVENTS)
hook_register = generations_hooks.register
hook_emit_on_commit = generations_hooks.emit_on_commit
