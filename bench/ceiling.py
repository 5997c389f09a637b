"""The ceiling Django itself sets on a start: the start's statements as raw SQL from a
plain Django view, under the same gunicorn as the real endpoint.

`start_ceiling` checks the init data's HMAC (the project's `init_data_validate`), then runs
on one cursor the statements of `bench/start.pgbench` (authentication, the debit that
takes the row lock, the model-and-usage select, the generation and ledger inserts, the
commit, the enqueue) and answers 201 with a small JSON body. What it leaves out is what
the project adds above Django: DRF, serializers, the ORM building SQL, validation,
logging. Mounted only by bench/settings.py (bench/urls.py), never in production URLs;
run twice by the bench, without middleware and behind the project's middleware stack.
"""

import json
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts.telegram_init_data import InitDataInvalid, init_data_validate

PATH = "bench/ceiling/start"

AUTHENTICATE = """
SELECT id, password, last_login, is_superuser, telegram_id, username, first_name, last_name, language_code,
  is_premium, credits, is_banned, is_reachable, referral_code, referred_by_id, email, is_staff, is_active,
  created_at, updated_at
FROM accounts_user WHERE telegram_id = %s ORDER BY id LIMIT 1
"""
DEBIT = """
WITH debit AS (SELECT (SELECT price FROM generations_aimodel WHERE is_active AND slug = %s) AS amount)
UPDATE accounts_user SET credits = accounts_user.credits - debit.amount FROM debit
WHERE accounts_user.id = %s AND debit.amount > 0 AND accounts_user.credits >= debit.amount
RETURNING debit.amount, accounts_user.credits
"""
MODEL_AND_USAGE = """
SELECT m.id, m.slug, m.kind, m.price, m.params_schema, m.images_min, m.images_max, m.prompt_optional_with_images,
  m.price_rule, m.timeout_rule,
  (SELECT u.is_banned FROM accounts_user u WHERE u.id = %(user)s),
  (SELECT count(*) FROM generations_generation g WHERE g.user_id = %(user)s AND g.status IN ('pending', 'processing')),
  (SELECT count(*) FROM generations_generation g
   WHERE g.user_id = %(user)s AND g.created_at > now() - interval '60 seconds'),
  (SELECT min(g.created_at) FROM generations_generation g
   WHERE g.user_id = %(user)s AND g.created_at > now() - interval '60 seconds'),
  (SELECT g.id FROM generations_generation g WHERE g.user_id = %(user)s AND g.idempotency_key = %(key)s
   AND g.status IN ('pending', 'processing', 'completed')),
  (SELECT g.payload_hash FROM generations_generation g WHERE g.user_id = %(user)s AND g.idempotency_key = %(key)s
   AND g.status IN ('pending', 'processing', 'completed'))
FROM generations_aimodel m WHERE m.slug = %(slug)s AND m.is_active
"""
GENERATION_INSERT = """
INSERT INTO generations_generation (user_id, model_id, kind, prompt, params, status, credits_charged, refunded,
  idempotency_key, payload_hash, images, results, result_file, result_content_type, error_code, error_message,
  provider_job_id, provider_cost_usd, unconfirmed_request_id, unconfirmed_since, attempts, next_check_at, timeout_at,
  created_at, started_at, finished_at)
VALUES (%s, %s, %s, %s, '{"num_images": 1, "aspect_ratio": "1:1"}', 'pending', %s, false, %s, md5(%s), '[]', '[]',
  '', '', '', '', '', NULL, '', NULL, 0, NULL, now() + interval '15 minutes', now(), NULL, NULL)
RETURNING id, images, results, unconfirmed_request_id, created_at
"""
LEDGER_INSERT = """
INSERT INTO accounts_creditledgerentry (amount, balance_after, reference, note, created_by_id, created_at, user_id,
  kind)
VALUES (%s, %s, %s, %s, NULL, now(), %s, 'generation_charge') RETURNING id
"""
ENQUEUE = "INSERT INTO django_q_ormq (key, payload, lock) VALUES ('nanogen', %s, now()) RETURNING id"
# Django-Q2's signed task package for one generation is about 430 bytes.
PAYLOAD_PADDING = "x" * 400


def _refusal(status: int, code: str) -> JsonResponse:
    return JsonResponse({"error": {"code": code}}, status=status)


@csrf_exempt
@require_POST
def start_ceiling(request: HttpRequest) -> HttpResponse:
    scheme, _, init_data = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    try:
        if scheme != "tma":
            raise InitDataInvalid("no tma authorization")
        _, telegram_user = init_data_validate(init_data, bot_token=settings.TELEGRAM_BOT_TOKEN,
                                              max_age=settings.TELEGRAM_INIT_DATA_MAX_AGE)
    except InitDataInvalid:
        return _refusal(401, "AUTH_INVALID")
    try:
        body: dict[str, Any] = json.loads(request.body)
        slug, prompt, key = str(body["model"]), str(body["prompt"]), str(body["idempotency_key"])
    except (ValueError, KeyError, TypeError):
        return _refusal(400, "VALIDATION_FAILED")

    with connection.cursor() as cursor:
        cursor.execute(AUTHENTICATE, [telegram_user.id])
        user = cursor.fetchone()
        if user is None:
            return _refusal(401, "AUTH_INVALID")
        user_id = user[0]
        with transaction.atomic():
            cursor.execute(DEBIT, [slug, user_id])
            debit = cursor.fetchone()
            if debit is None:
                return _refusal(402, "INSUFFICIENT_CREDITS")
            cursor.execute(MODEL_AND_USAGE, {"user": user_id, "key": key, "slug": slug})
            usage = cursor.fetchone()
            if usage is None or usage[10] or usage[11] >= settings.GENERATION_MAX_ACTIVE \
                    or usage[12] >= settings.GENERATION_RATE_LIMIT_PER_MINUTE or usage[14] is not None:
                transaction.set_rollback(True)
                return _refusal(429, "REFUSED")
            model_id, model_slug, kind, price = usage[0], usage[1], usage[2], usage[3]
            cursor.execute(GENERATION_INSERT, [user_id, model_id, kind, prompt, price, key, prompt])
            generation_id, _, _, _, created_at = cursor.fetchone()
            balance = debit[1]
            cursor.execute(LEDGER_INSERT, [-price, balance, f"generation:{generation_id}", model_slug, user_id])
        cursor.execute(ENQUEUE, [f"generation_run:{generation_id}:{PAYLOAD_PADDING}"])
    return JsonResponse(
        {"id": generation_id, "model": model_slug, "kind": kind, "prompt": prompt, "status": "pending",
         "credits_charged": price, "idempotency_key": key, "created_at": created_at.isoformat(), "balance": balance},
        status=201,
    )
