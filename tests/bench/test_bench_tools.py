"""The benchmark's own tools that need no server: the init-data file wrk reads, the
parsing of wrk's result line, the same-run ratios, and the plan comparison."""

import json

import pytest

from accounts.telegram_init_data import init_data_sign, init_data_validate
from bench import plans
from bench.start_http import ratios
from bench.wrk import RESULT_PREFIX, init_data_file_write, result_parse

BOT_TOKEN = "123456:TEST-TOKEN"


def _sign(telegram_id: int) -> str:
    user = json.dumps({"id": telegram_id, "first_name": "User", "language_code": "en"})
    return init_data_sign({"auth_date": "1700000000", "user": user}, bot_token=BOT_TOKEN)


def test_the_init_data_file_has_one_valid_signed_line_per_user(tmp_path):
    path = tmp_path / "init-data.txt"

    assert init_data_file_write(path, range(11, 14), _sign) == 3

    lines = path.read_text().splitlines()
    assert len(lines) == 3
    for telegram_id, line in zip(range(11, 14), lines, strict=True):
        _, user = init_data_validate(line, bot_token=BOT_TOKEN, max_age=10**10, now=1700000000)
        assert user.id == telegram_id


def test_the_init_data_file_refuses_a_line_with_a_newline(tmp_path):
    with pytest.raises(ValueError, match="one non-empty line"):
        init_data_file_write(tmp_path / "bad.txt", [1], lambda _: "a\nb")


def test_wrk_result_counts_only_201s_as_starts():
    line = RESULT_PREFIX + json.dumps({
        "requests": 1010, "answered": 1010, "duration_us": 10_000_000, "others": {"429": 7, "500": 3},
        "errors": {"connect": 0, "read": 0, "write": 0, "timeout": 2},
        "p50_us": 40_000, "p90_us": 60_000, "p99_us": 90_500, "max_us": 120_000, "mean_us": 41_000.5,
    })

    result = result_parse("Running 10s test\n" + line + "\n")

    assert result["created"] == 1000
    assert result["throughput_per_s"] == 100.0
    assert result["non_201"] == 10
    assert result["non_201_statuses"] == {"429": 7, "500": 3}
    assert result["socket_errors"] == {"timeout": 2}
    assert (result["p50_ms"], result["p99_ms"]) == (40.0, 90.5)


def test_wrk_without_a_result_line_is_an_error():
    with pytest.raises(RuntimeError, match="no result line"):
        result_parse("unable to connect\n")


def test_ratios_are_taken_level_by_level_and_the_best_of_8_and_32():
    def http(connections, rate):
        return {"connections": connections, "throughput_per_s": rate}

    section = {
        "start": [http(1, 50), http(8, 200), http(32, 180)],
        "pgbench": [{"concurrency": 1, "throughput_per_s": 500}, {"concurrency": 8, "throughput_per_s": 1000},
                    {"concurrency": 32, "throughput_per_s": 900}],
        "ceiling": {"none": [http(8, 250), http(32, 300)], "project": [http(8, 220), http(32, 200)]},
    }

    result = ratios(section)

    by_level = {row["connections"]: row for row in result["levels"]}
    assert by_level[1] == {"connections": 1, "start_over_pgbench": 0.1}
    assert by_level[8]["ceiling_project_over_pgbench"] == 0.22
    assert by_level[32]["start_over_ceiling_none"] == 0.6
    assert result["best_start_over_pgbench"] == 0.2
    assert result["best_start_over_ceiling_project"] == 0.909


def test_statements_of_one_query_share_a_shape_whatever_their_values():
    one = "SELECT a FROM t WHERE id IN (1, 2, 3) AND at <= '2026-01-01 10:00:00'::timestamptz AND k = 'it''s'"
    other = "SELECT a FROM t WHERE id IN (7) AND at <= '2027-05-05 11:11:11'::timestamptz AND k = 'x'"

    assert plans.shape(one) == plans.shape(other)


@pytest.mark.parametrize(("sql", "expected"), [
    ('SELECT "m"."id", (SELECT u.x FROM "accounts_user" u) FROM "generations_aimodel" m', "SELECT generations_aimodel"),
    ('WITH debit AS (SELECT 1) UPDATE "accounts_user" SET credits = 1', "UPDATE accounts_user"),
    ('INSERT INTO "generations_generation" ("a") VALUES (1)', "INSERT generations_generation"),
    ('DELETE FROM "django_q_task" WHERE id IN (SELECT 1 FROM x)', "DELETE django_q_task"),
])
def test_a_statement_is_labelled_by_its_verb_and_top_level_table(sql, expected):
    assert plans.label(sql) == expected


def _plan(shape, buffers, scans, statement="SELECT t"):
    return {"shape": shape, "statement": statement, "buffers": buffers, "scans": scans, "execution_ms": 0.1}


def test_compare_flags_growth_a_changed_plan_and_a_statement_sent_at_one_size():
    small = [_plan("a", 10, ["Index Scan using i on t"]), _plan("b", 100, ["Index Scan using j on u"]),
             _plan("c", 5, [])]
    large = [_plan("a", 12, ["Index Scan using i on t"]),
             _plan("b", 400, ["Seq Scan on generations_generation"]), _plan("d", 1, [])]

    rows = {row["small"]["shape"] if row["small"] else row["large"]["shape"]: row["flags"]
            for row in plans.compare(small, large)}

    assert rows["a"] == []
    assert rows["b"] == ["buffers grow", "plan changed", "sequential scan of a big table"]
    assert rows["c"] == ["sent at the small size only"]
    assert rows["d"] == ["sent at the large size only"]


def test_the_plan_report_renders_both_sizes_and_a_verdict():
    operations = {"history": [_plan("a", 10, ["Index Scan using i on t"])]}
    report = {"small": {"generations": 10_000, "ledger_rows": 11_000, "operations": operations},
              "large": {"generations": 1_000_000, "ledger_rows": 1_100_000,
                        "operations": {"history": [_plan("a", 11, ["Index Scan using i on t"])]}}}

    text = "\n".join(plans.render(report))

    assert "| 1 | SELECT t | Index Scan using i on t | 10 | 11 |" in text
    assert "Verdict: no statement grows." in text
