"""Goal 4 of `make bench`: the cost of the start, history, detail, quote and the sweeper
stays flat as the data grows.

Each operation is run once in process (Django's test client for the endpoints, the
sweeper's function itself) inside a transaction that is rolled back, with every SQL
statement it sends captured. Each distinct statement is then EXPLAIN (ANALYZE, BUFFERS)'d,
in the order it was sent, in another rolled-back transaction. Capturing, rather than
copying the SQL here, keeps the plans in step with whatever the code sends today.

Buffers (pages touched) do not depend on the machine's load, so the same statement's
buffers at 10 thousand and at a million generations show whether its cost grows; the
scan nodes show why (an index scan that stays an index scan, or a sequential scan).
"""

import json
import re
from collections.abc import Callable
from typing import Any

from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

# Statements that carry no plan (transaction control) or that are not ours to judge.
SKIPPED = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|SET|SHOW)\b", re.I)
BIG_TABLES = ("generations_generation", "accounts_creditledgerentry")
# A statement "grows" when its buffers at the large size exceed this multiple of the
# small size's plus this slack (a B-tree one level deeper costs a page or two per scan).
GROWTH_FACTOR = 2.0
GROWTH_SLACK = 8


class _Rollback(Exception):
    pass


def captured_statements(operation: Callable[[], object]) -> list[str]:
    """The SQL `operation` sends, with parameters inlined, in order; its writes rolled back."""
    with CaptureQueriesContext(connection) as queries:
        try:
            with transaction.atomic():
                operation()
                raise _Rollback()
        except _Rollback:
            pass
    return [query["sql"] for query in queries.captured_queries if not SKIPPED.match(query["sql"])]


def shape(sql: str) -> str:
    """The statement with its literals taken out (lists of them too): two runs of one
    query, with other values or another number of ids, share a shape."""
    sql = re.sub(r"'(?:[^']|'')*'(::\w+)?", "?", sql)
    sql = re.sub(r"\b\d+(?:\.\d+)?\b", "?", sql)
    return re.sub(r"\?(?:\s*,\s*\?)+", "?", sql)


def _top_level(sql: str) -> str:
    """`sql` with every parenthesised part blanked out (subqueries, column lists)."""
    depth, kept = 0, []
    for char in sql:
        if char == "(":
            depth += 1
        elif char == ")":
            depth = max(0, depth - 1)
        kept.append(char if depth == 0 and char != ")" else " ")
    return "".join(kept)


def label(sql: str) -> str:
    """`SELECT generations_generation`: the verb and the table the statement reads or
    writes (its top-level FROM / INTO / UPDATE, not a subquery's)."""
    top = _top_level(sql)
    verb = top.lstrip().split(None, 1)[0].upper() if top.strip() else "?"
    if verb == "WITH":
        found = re.search(r"\b(UPDATE|INSERT\s+INTO|DELETE\s+FROM)\s+\"?(\w+)", top, re.I)
        return f"{found.group(1).split()[0].upper()} {found.group(2)}" if found else "WITH ?"
    pattern = {"SELECT": r"\bFROM\s+\"?(\w+)", "UPDATE": r"^\s*UPDATE\s+\"?(\w+)",
               "INSERT": r"\bINTO\s+\"?(\w+)", "DELETE": r"\bFROM\s+\"?(\w+)"}.get(verb, r"\"?(\w+)")
    found = re.search(pattern, top, re.I)
    return f"{verb} {found.group(1) if found else '?'}"


def plan_nodes(node: dict[str, Any]) -> list[str]:
    """Every scan of the plan tree, depth first: `Index Scan using <index> on <table>`."""
    nodes: list[str] = []
    kind = node.get("Node Type", "")
    if "Scan" in kind:
        text = kind
        if node.get("Index Name"):
            text += f" using {node['Index Name']}"
        if node.get("Relation Name"):
            text += f" on {node['Relation Name']}"
        nodes.append(text)
    for child in node.get("Plans", []):
        nodes.extend(plan_nodes(child))
    return nodes


def explain(statements: list[str]) -> list[dict[str, Any]]:
    """EXPLAIN (ANALYZE, BUFFERS) of each distinct statement, in order, rolled back."""
    seen: set[str] = set()
    plans: list[dict[str, Any]] = []
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            for sql in statements:
                key = shape(sql)
                if key in seen:
                    continue
                seen.add(key)
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql)
                raw = cursor.fetchone()[0]
                document = (json.loads(raw) if isinstance(raw, str) else raw)[0]
                top = document["Plan"]
                plans.append({
                    "statement": label(sql),
                    "shape": key,
                    "sql": sql if len(sql) <= 400 else sql[:400] + "...",
                    "scans": plan_nodes(top),
                    "buffers": top.get("Shared Hit Blocks", 0) + top.get("Shared Read Blocks", 0),
                    "rows": top.get("Actual Rows", 0),
                    "execution_ms": round(document.get("Execution Time", 0.0), 3),
                })
            raise _Rollback()
    except _Rollback:
        pass
    return plans


def compare(small: list[dict[str, Any]], large: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The two sizes side by side, statement by statement (matched by shape; a statement
    sent at one size only, e.g. the sweeper finding work at one and not the other, stands
    alone), each flagged when its buffers grow, its plan changes or a big table is read
    by a sequential scan."""
    by_shape_small = {plan["shape"]: plan for plan in small}
    by_shape_large = {plan["shape"]: plan for plan in large}
    order = list(dict.fromkeys([plan["shape"] for plan in large] + [plan["shape"] for plan in small]))
    rows = []
    for key in order:
        one, other = by_shape_small.get(key), by_shape_large.get(key)
        name = (other or one or {}).get("statement", "?")
        flags = []
        if one and other:
            if other["buffers"] > GROWTH_FACTOR * one["buffers"] + GROWTH_SLACK:
                flags.append("buffers grow")
            if one["scans"] != other["scans"]:
                flags.append("plan changed")
        elif one:
            flags.append("sent at the small size only")
        else:
            flags.append("sent at the large size only")
        if other and any(scan.startswith("Seq Scan") and scan.endswith(BIG_TABLES) for scan in other["scans"]):
            flags.append("sequential scan of a big table")
        rows.append({"statement": name, "small": one, "large": other, "flags": flags})
    return rows


def _scans(plan: dict[str, Any] | None) -> str:
    return "; ".join(dict.fromkeys(plan["scans"])) or "(none)" if plan else ""


def render(plans: dict[str, Any]) -> list[str]:
    """Markdown: one table per operation, 10k against 1M."""
    small, large = plans.get("small"), plans.get("large")
    if not small:
        return []
    lines = [
        "## Goal 4. Cost as the data grows (EXPLAIN ANALYZE, BUFFERS)",
        "",
        f"Small: {small['generations']:,} generations, {small['ledger_rows']:,} ledger rows"
        + (f"; large: {large['generations']:,} generations, {large['ledger_rows']:,} ledger rows." if large else "."),
        "Each statement the operation sent, in order (repeats of one shape once); buffers = shared hit + read "
        "pages of the whole statement (machine-independent); the scans of its plan.",
        "",
    ]
    for operation in small["operations"]:
        rows = compare(small["operations"][operation], (large or {}).get("operations", {}).get(operation, []))
        lines += [f"### {operation}", "",
                  "| # | statement | scans at the large size (at the small, when other) | buffers small | "
                  "buffers large | ms small | ms large | flags |",
                  "|---|---|---|---|---|---|---|---|"]
        for number, row in enumerate(rows, 1):
            one, other = row["small"] or {}, row["large"] or {}
            scans = _scans(row["large"] or row["small"])
            if row["small"] and row["large"] and row["small"]["scans"] != row["large"]["scans"]:
                scans += f" (small: {_scans(row['small'])})"
            lines.append(f"| {number} | {row['statement']} | {scans} | {one.get('buffers', '')} | "
                         f"{other.get('buffers', '')} | {one.get('execution_ms', '')} | "
                         f"{other.get('execution_ms', '')} | {', '.join(row['flags']) or 'flat'} |")
        lines.append("")
    flagged = [(operation, row) for operation in small["operations"]
               for row in compare(small["operations"][operation],
                                  (large or {}).get("operations", {}).get(operation, []))
               if row["flags"]]
    if large:
        growing = [(operation, row) for operation, row in flagged
                   if {"buffers grow", "sequential scan of a big table"} & set(row["flags"])]
        lines.append("Verdict: " + ("no statement grows." if not growing else "grows: " + "; ".join(
            f"{operation} / {row['statement']} ({', '.join(row['flags'])})" for operation, row in growing) + ".")
                     + " A changed plan alone is the planner's choice at another size; the buffers say what it "
                     "costs.")
        lines.append("")
    return lines
