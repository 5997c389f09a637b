import json
import time
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.telegram_init_data import init_data_sign


class Command(BaseCommand):
    help = "DEBUG only: print a Mini App URL with init data signed by the configured bot token."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("telegram_id", type=int)
        parser.add_argument("--first-name", default="Dev")
        parser.add_argument("--username", default="")
        parser.add_argument("--language", default="en", help="language_code, e.g. en or ru")
        parser.add_argument("--base-url", default="http://127.0.0.1:8000/", help="where the Mini App is served")

    def handle(self, *args: Any, telegram_id: int, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("devlogin works only with DEBUG=true: it signs init data for any user.")
        if not settings.TELEGRAM_BOT_TOKEN:
            raise CommandError("TELEGRAM_BOT_TOKEN is not set; nothing to sign with.")
        if telegram_id <= 0:
            raise CommandError("telegram_id must be a positive integer.")
        user = {"id": telegram_id, "first_name": options["first_name"], "language_code": options["language"]}
        if options["username"]:
            user["username"] = options["username"]
        user_json = json.dumps(user, separators=(",", ":"), ensure_ascii=False)
        init_data = init_data_sign(
            {"auth_date": str(int(time.time())), "query_id": "devlogin", "user": user_json},
            bot_token=settings.TELEGRAM_BOT_TOKEN,
        )
        # Telegram hands init data to a Mini App in the URL fragment as tgWebAppData;
        # the page reads it from there outside Telegram too. A fragment never
        # reaches server logs.
        self.stdout.write(f"{options['base_url']}#tgWebAppData={quote(init_data, safe='')}")
