"""`import`: many posts from one CSV file, all or nothing."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from milton_desktop.cli.common import EXIT_OK, EXIT_USAGE

if TYPE_CHECKING:
    from milton_desktop.context import AppContext


def add_parsers(sub: Any) -> None:
    imp = sub.add_parser(
        "import",
        help="create posts (scheduled or drafts) from a CSV file, all or nothing",
        description="Columns, named by the first row in any order: text (required), account "
        "(empty: a draft), at (ISO 8601 with an offset or Z, or a local time), tz, media "
        "(files relative to the CSV's folder, separated by |), media_url, alt_text, voice, "
        "repeat (an RRULE), follow_up_1, follow_up_2, … A row with an account and no time "
        "takes the account's next free queue slot.",
    )
    imp.add_argument("file", metavar="FILE", help="the CSV file (comma, semicolon or tab)")
    imp.add_argument(
        "--dry-run", action="store_true", help="check every row and say what would be created"
    )
    imp.add_argument(
        "--tz", metavar="ZONE", help="zone of local times in rows without a tz (default: the app's)"
    )
    imp.add_argument(
        "--skip-invalid",
        action="store_true",
        help="import the valid rows and list the others, instead of importing nothing",
    )
    imp.add_argument(
        "--allow-duplicates",
        action="store_true",
        help="also import rows identical to a post already there or to an earlier row",
    )
    imp.add_argument("--json", action="store_true")


def _lines(lines: list[str] | tuple[str, ...]) -> None:
    for line in lines:
        print(line, file=sys.stderr)


def cmd_import(ctx: AppContext, args: argparse.Namespace) -> int:
    from milton_desktop.operations import csv_import

    plan = csv_import.plan_import(
        Path(args.file), tz=args.tz, allow_duplicates=args.allow_duplicates
    )
    invalid = plan.problem_lines()
    if invalid and not args.skip_invalid:
        _lines(invalid)
        print(
            f"milton-desktop: nothing imported: {len(invalid)} of {len(plan.rows)} rows cannot "
            "be imported (fix them, or pass --skip-invalid to import the others)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if args.dry_run:
        return _dry_run(plan, args.json)
    result = csv_import.commit_import(
        plan, media_dir=ctx.paths.media_dir, skip_invalid=args.skip_invalid
    )
    _lines(result.skipped)
    _lines(result.duplicates)
    if args.json:
        print(json.dumps({"posts": list(result.post_ids), "schedules": list(result.schedule_ids)}))
    elif not result.post_ids:
        why = []
        if result.duplicates:
            why.append(
                f"{len(result.duplicates)} row(s) are already there "
                "(pass --allow-duplicates to import them again)"
            )
        if result.skipped:
            why.append(f"{len(result.skipped)} invalid row(s) skipped")
        print("nothing imported: " + "; ".join(why))
    else:
        print(
            f"imported {result.count} posts ({result.scheduled} scheduled, {result.drafts} drafts)"
        )
    return EXIT_OK


def _dry_run(plan: Any, as_json: bool) -> int:
    from milton_desktop.domain.timeutil import iso_z
    from milton_desktop.operations import csv_import

    ready = plan.ready
    _lines(plan.problem_lines())
    _lines(plan.duplicate_lines())
    if as_json:
        rows = [
            {
                "row": r.row,
                "account": r.account or None,
                "scheduled_time": iso_z(r.at),
                "timezone": r.zone if r.account else None,
                "queued": r.queued,
                "repeat": r.repeat or None,
                "text": r.text,
                "media": len(r.media),
                "follow_ups": len(r.follow_ups),
            }
            for r in ready
        ]
        print(json.dumps({"would_create": rows}, ensure_ascii=False))
        return EXIT_OK
    for r in ready:
        print(csv_import.describe(r))
    drafts = sum(1 for r in ready if r.is_draft)
    print(
        f"dry run: would import {len(ready)} posts ({len(ready) - drafts} scheduled, "
        f"{drafts} drafts); nothing was written"
    )
    return EXIT_OK


COMMANDS = {"import": cmd_import}
