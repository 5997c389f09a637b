"""The bot as a client: generating in the private chat (text messages, /model, the
buttons under results), inline mode and sharing.

`handlers` holds the python-telegram-bot handlers (the bot process only); `texts`
and `keyboards` are shared with the worker, which edits status messages and sends
results. The logic lives in `telegram_bot.services` and `telegram_bot.selectors`.
"""
