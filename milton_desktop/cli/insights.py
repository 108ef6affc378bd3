"""``insights`` (per post, the latest engagement snapshot), ``insights fetch`` (take
one now) and ``best-times`` (the account's slots ranked by its own history)."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from milton_desktop.cli.common import EXIT_FAIL, EXIT_OK, local, short, table

if TYPE_CHECKING:
    from milton_desktop.context import AppContext


def add_parsers(sub: Any) -> None:
    ins = sub.add_parser(
        "insights", help="each published post's latest engagement figures (likes, reposts, ...)"
    )
    ins.add_argument("--account", metavar="NAME", help="only this account's posts")
    ins.add_argument("--json", action="store_true")
    ins_sub = ins.add_subparsers(dest="insights_action", metavar="ACTION")
    fetch = ins_sub.add_parser(
        "fetch", help="read the figures of every published post now (the scheduler does it "
        "1 h, 24 h and 7 days after each post)"
    )  # fmt: skip
    fetch.add_argument("--account", metavar="NAME", help="only this account")
    fetch.add_argument("--json", action="store_true")

    bt = sub.add_parser(
        "best-times", help="the weekday and hour slots where this account's own posts did best"
    )
    bt.add_argument("--account", metavar="NAME", required=True)
    bt.add_argument("--json", action="store_true")


def _z(value: Any) -> str | None:
    from milton_desktop.domain.timeutil import iso_z

    return iso_z(value) if value is not None else None


def cmd_insights(ctx: AppContext, args: argparse.Namespace) -> int:
    if getattr(args, "insights_action", None) == "fetch":
        return _fetch(ctx, args)
    from milton_desktop.operations import insights
    from milton_desktop.storage import queries

    acc = queries.get_account(args.account) if args.account else None
    rows = queries.latest_metrics(acc.id if acc else None)
    accounts = [acc] if acc else [a for a in queries.list_accounts()]
    notes = {a.display_name: insights.account_notes(a.id) for a in accounts}
    if args.json:
        out = [
            {**r, "published_at": _z(r["published_at"]), "taken_at": _z(r["taken_at"])}
            for r in rows
        ]
        print(json.dumps(out, ensure_ascii=False))
        return EXIT_OK
    from milton_desktop.publishers import catalogue

    body = [
        [
            local(r["published_at"]),
            r["account"],
            catalogue.label(r["platform"]),
            r["age"],
            str(r["interactions"]),
            "-" if r["impressions"] is None else str(r["impressions"]),
            ", ".join(f"{k} {v}" for k, v in sorted(r["counters"].items())),
            short(r["text"], 30),
        ]
        for r in rows
    ]
    if not rows:
        print(
            "no figures yet: the scheduler reads them 1 h, 24 h and 7 days after each post; "
            "`milton-desktop insights fetch` reads them now"
        )
    else:
        print(
            table(
                body,
                ["PUBLISHED", "ACCOUNT", "PLATFORM", "AGE", "ENGAGED", "SHOWN", "COUNTS", "TEXT"],
            )
        )
    for name, said in notes.items():
        for note in said:
            print(f"note for “{name}”: {note}")
    return EXIT_OK


def _fetch(ctx: AppContext, args: argparse.Namespace) -> int:
    from milton_desktop.operations import insights

    reports = insights.take_snapshots(ctx.credentials, account=args.account, manual=True)
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "account": r.account,
                        "platform": r.platform,
                        "taken": r.taken,
                        "gone": r.gone,
                        "without_figures": r.pending,
                        "notes": r.notes,
                        "wait_until": _z(r.wait_until),
                        "error": r.error,
                    }
                    for r in reports
                ],
                ensure_ascii=False,
            )
        )
    else:
        if not reports:
            print("no published posts to read figures for")
        for r in reports:
            parts = [f"{r.taken} snapshot(s) taken"]
            if r.gone:
                parts.append(f"{r.gone} post(s) no longer on the platform")
            if r.pending:
                parts.append(f"{r.pending} without figures yet")
            if r.wait_until is not None:
                parts.append(f"rate-limited: the rest waits until {local(r.wait_until)}")
            print(f"“{r.account}”: " + "; ".join(parts))
            for note in r.notes:
                print(f"  note: {note}")
            if r.error:
                print(f"  {r.error}")
    return EXIT_FAIL if any(r.error for r in reports) else EXIT_OK


def cmd_best_times(ctx: AppContext, args: argparse.Namespace) -> int:
    from milton_desktop.domain.best_times import HISTORY, MIN_POSTS
    from milton_desktop.operations import insights

    best = insights.best_times(args.account)
    if args.json:
        print(json.dumps(best.to_json(), ensure_ascii=False))
        return EXIT_OK
    if best.basis != HISTORY:
        print(
            f"“{best.account}” has {best.posts} measured post(s); best times need at least "
            f"{MIN_POSTS} measured a day or more after they went out, so nothing is "
            "suggested yet (no general advice stands in for this account's own history); "
            "`milton-desktop insights fetch` reads the figures of the posts published so far"
        )
        return EXIT_OK
    measure = "interactions per impression" if best.per_impression else "interactions"
    print(
        f"best times for “{best.account}” ({best.timezone}), from {best.posts} measured "
        f"posts ({measure}, 1.0 = the account's typical post):"
    )
    rows = [
        [s.day, f"{s.hour:02d}:00", f"{s.score:.2f}", str(s.posts), f"{s.raw:.2f}"]
        for s in best.slots
    ]
    print(table(rows, ["DAY", "HOUR", "SCORE", "POSTS", "OWN MEAN"]))
    print(
        "a slot with few posts is pulled toward 1.0 (its own mean is beside it); "
        "slots with no posts have no evidence and are not listed"
    )
    return EXIT_OK


COMMANDS = {"insights": cmd_insights, "best-times": cmd_best_times}
