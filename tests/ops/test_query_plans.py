"""The dashboard and a steady metrics scrape read big tables through indexes only.

With sequential scans disabled, PostgreSQL still plans one when no index fits a
query; so a plan without "Seq Scan" on a big table proves every query of these
pages has an index to use, whatever the data. (On a million generations the
bench shows what that buys: see bench/ and README.)"""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from ops.metrics import database_metrics_text
from tests.helpers import credits_give
from tests.ops.helpers import generation_new

pytestmark = pytest.mark.django_db

BIG_TABLES = ("generations_generation", "accounts_creditledgerentry", "payments_payment", "accounts_user")


def plans_of(queries: list[dict]) -> list[tuple[str, str]]:
    plans = []
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for query in queries:
            sql = query["sql"]
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            cursor.execute(f"EXPLAIN {sql}")
            plans.append((sql, "\n".join(row[0] for row in cursor.fetchall())))
    return plans


def assert_no_seq_scan_on_big_tables(queries: list[dict]) -> None:
    for sql, plan in plans_of(queries):
        for table in BIG_TABLES:
            assert f"Seq Scan on {table}" not in plan, f"{sql}\n{plan}"


@pytest.fixture
def a_generation(owner, image_model):
    credits_give(owner, 100)
    return generation_new(owner, image_model)


def test_dashboard_queries_use_indexes(staff_user, a_generation):
    client = Client()
    client.force_login(staff_user)
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/admin/dashboard/").status_code == 200
    dashboard = [q for q in captured.captured_queries if "django_session" not in q["sql"]
                 and '"accounts_user"."id" = ' not in q["sql"]]
    assert_no_seq_scan_on_big_tables(dashboard)


def test_dashboard_period_aggregates_read_the_index_alone(staff_user, a_generation):
    """Generations per day and per model are index-only scans of generation_created."""
    client = Client()
    client.force_login(staff_user)
    with CaptureQueriesContext(connection) as captured:
        client.get("/admin/dashboard/")
    per_day = [q for q in captured.captured_queries
               if "generations_generation" in q["sql"] and "GROUP BY" in q["sql"] and "created_at" in q["sql"]
               and "AT TIME ZONE" in q["sql"]]
    assert per_day
    for sql, plan in plans_of(per_day):
        assert "Index Only Scan using generation_created" in plan, f"{sql}\n{plan}"


def test_a_steady_scrape_uses_indexes(a_generation):
    database_metrics_text()  # the first scrape of a process counts all history once
    with CaptureQueriesContext(connection) as captured:
        database_metrics_text()
    assert_no_seq_scan_on_big_tables(captured.captured_queries)
