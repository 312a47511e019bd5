"""The peer of warroom's Slack HTTP ingress, for `examples/bench_ingress.rs`.

Slack's own Python framework (slack_bolt's AsyncApp on aiohttp) doing the same
ingress work as warroom: verify the v0 signature (Bolt's request verification),
parse the slash command, check the user's role against warroom's matrix
(`commands/matrix.toml`), record the command in SQLite with dedupe on its
trigger id, and ack. The SQLite file has warroom's durability: WAL,
synchronous=NORMAL (see `src/store.rs`), one commit per command before the ack.

    python bench/peer_bolt.py --port 3000 --db peer.db --secret S \
        --slack-api http://127.0.0.1:PORT/api/ [--repo .]

The Web API client points at the harness's Slack stand-in (Bolt asks auth.test
once, at the first request).
"""

import argparse
import os
import sqlite3
import time
import tomllib

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient


def roles_of(matrix):
    """user id -> set of role names, as warroom's matrix lists members."""
    held = {}
    for role, spec in matrix.get("roles", {}).items():
        for member in spec.get("members", []):
            held.setdefault(member.split(":")[-1], set()).add(role)
    return held


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--db", required=True)
    ap.add_argument("--secret", required=True)
    ap.add_argument("--slack-api", required=True)
    ap.add_argument("--repo", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    args = ap.parse_args()

    with open(os.path.join(args.repo, "commands", "matrix.toml"), "rb") as f:
        matrix = tomllib.load(f)
    with open(os.path.join(args.repo, "commands", "chatia", "kanban-off.toml"), "rb") as f:
        kanban_scenario = tomllib.load(f)["command"]["scenario"]
    held = roles_of(matrix)
    may_request_kanban = set(matrix["scenarios"][kanban_scenario]["request"])

    db = sqlite3.connect(args.db, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute(
        "CREATE TABLE IF NOT EXISTS commands ("
        " id INTEGER PRIMARY KEY AUTOINCREMENT, received_at BIGINT NOT NULL,"
        " channel TEXT NOT NULL, user_id TEXT NOT NULL, text TEXT NOT NULL,"
        " trigger_id TEXT UNIQUE, outcome TEXT NOT NULL)"
    )

    def record(body, outcome):
        cur = db.execute(
            "INSERT INTO commands (received_at, channel, user_id, text, trigger_id, outcome)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (trigger_id) DO NOTHING",
            (
                int(time.time() * 1000),
                body["channel_id"],
                body["user_id"],
                f'{body["command"]} {body.get("text", "")}'.strip(),
                body.get("trigger_id"),
                outcome,
            ),
        )
        return cur.rowcount == 1

    client = AsyncWebClient(token="xoxb-bench", base_url=args.slack_api)
    app = AsyncApp(client=client, signing_secret=args.secret)

    @app.command("/status")
    async def status(ack, body):
        roles = held.get(body["user_id"], set())
        if not roles:
            record(body, "unauthorized")
            await ack("You hold no role in the matrix, so warroom shows you nothing.")
            return
        new = record(body, "received")
        await ack("accepted: /status" if new else "already received")

    @app.command("/kanban-off")
    async def kanban_off(ack, body, command):
        text = command.get("text", "")
        if "reason=" not in text:
            record(body, "invalid")
            await ack("usage: /kanban-off reason=\"...\"")
            return
        roles = held.get(body["user_id"], set())
        if not roles & may_request_kanban:
            record(body, "unauthorized")
            await ack(f"You may not request /kanban-off ({kanban_scenario}).")
            return
        new = record(body, "received")
        await ack("accepted: /kanban-off" if new else "already received")

    app.start(port=args.port, path="/slack/commands", host="127.0.0.1")


if __name__ == "__main__":
    main()
