"""The writing assistant on the command line: `ai set/show/off/test`, `ai voice ...`,
and `draft`, `rewrite`, `split`.

The endpoint's key is read from stdin (never an argument: it would show in `ps` and
the shell's history), kept in the keyring only, and never printed, not even in
`--json`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from milton_desktop.cli.common import (
    EXIT_FAIL,
    EXIT_OK,
    CliError,
    Parser,
    out,
    row_id,
    short,
    table,
)

if TYPE_CHECKING:
    from milton_desktop.context import AppContext

LOCAL_HINT = (
    "A model server on this computer keeps your posts on it: llama.cpp's "
    "`llama-server -m MODEL.gguf --port 8080` (base URL http://127.0.0.1:8080/v1) or "
    "Ollama (`ollama serve`, then `ollama pull llama3.2`; base URL "
    "http://127.0.0.1:11434/v1)"
)


def add_parsers(sub: argparse._SubParsersAction) -> None:
    ai = sub.add_parser(
        "ai",
        help="the writing assistant: a language model endpoint and the voices' guides",
        description="Set up the language model Milton drafts with: any OpenAI-compatible "
        "endpoint. " + LOCAL_HINT + ".",
    )
    ai_sub = ai.add_subparsers(dest="action", metavar="ACTION", required=True, parser_class=Parser)
    s = ai_sub.add_parser(
        "set",
        help="use an endpoint and a model (a key, if any, from stdin)",
        description="Use an OpenAI-compatible endpoint. " + LOCAL_HINT + ".",
    )
    s.add_argument(
        "--base-url",
        required=True,
        metavar="URL",
        help="the endpoint's base, e.g. http://127.0.0.1:8080/v1 (llama.cpp) or "
        "http://127.0.0.1:11434/v1 (Ollama)",
    )
    s.add_argument(
        "--model", required=True, metavar="NAME", help="the model's name at the endpoint"
    )
    keys = s.add_mutually_exclusive_group()
    keys.add_argument(
        "--key-stdin",
        action="store_true",
        help="read an API key from stdin's first line (kept in the keyring); a local "
        "server needs none",
    )
    keys.add_argument("--no-key", action="store_true", help="forget the stored API key")
    s.add_argument(
        "--images",
        choices=("auto", "yes", "no"),
        help="whether the model reads images (for alt text): auto follows the endpoint's "
        "model list",
    )
    s.add_argument("--json", action="store_true")
    sh = ai_sub.add_parser("show", help="the endpoint in use (never the key)")
    sh.add_argument("--json", action="store_true")
    ai_sub.add_parser("off", help="stop using the assistant and delete its key")
    t = ai_sub.add_parser("test", help="ask the endpoint for its models and a one-word answer")
    t.add_argument("--json", action="store_true")

    v = ai_sub.add_parser("voice", help="the voices and their guides (the model's instructions)")
    v_sub = v.add_subparsers(
        dest="voice_action", metavar="ACTION", required=True, parser_class=Parser
    )
    vl = v_sub.add_parser("list", help="every voice")
    vl.add_argument("--json", action="store_true")
    vs = v_sub.add_parser("show", help="a voice's guide")
    vs.add_argument("name")
    vs.add_argument("--json", action="store_true")
    vset = v_sub.add_parser("set", help="add a voice, or change a voice's guide")
    vset.add_argument("name")
    src = vset.add_mutually_exclusive_group(required=True)
    src.add_argument(
        "--guide-file",
        metavar="FILE",
        help="the guide: tone, do's and don'ts, example posts (UTF-8 text; - for stdin)",
    )
    src.add_argument(
        "--reset", action="store_true", help="put a built-in voice's guide back to the shipped one"
    )
    vr = v_sub.add_parser("remove", help="remove a voice of your own")
    vr.add_argument("name")

    d = sub.add_parser(
        "draft",
        help="write drafts in a voice with the language model; prints the new post ids",
    )
    d.add_argument("--voice", required=True, help="the voice (see `ai voice list`)")
    d.add_argument(
        "--about",
        required=True,
        metavar="TOPIC",
        help='what to write about, e.g. "Tuesday\'s game recap"',
    )
    d.add_argument(
        "--platform",
        help="make every draft fit this platform, as Milton counts it (X's weighting included)",
    )
    d.add_argument("--n", type=int, default=3, help="how many drafts (1 to 10; default 3)")
    d.add_argument("--json", action="store_true")

    r = sub.add_parser(
        "rewrite",
        help="rewrite a post for a platform with the language model; kept as its text there",
    )
    r.add_argument("post_id", type=row_id)
    r.add_argument("--for", dest="platform", required=True, metavar="PLATFORM")
    r.add_argument("--voice", help="write in this voice instead of the post's")
    r.add_argument("--json", action="store_true")

    sp = sub.add_parser(
        "split", help="turn a post's long text into a thread whose every part fits a platform"
    )
    sp.add_argument("post_id", type=row_id)
    sp.add_argument("--for", dest="platform", required=True, metavar="PLATFORM")
    sp.add_argument("--voice", help="write in this voice instead of the post's")
    sp.add_argument("--json", action="store_true")


# ---------------------------------------------------------------- helpers


def _read_key() -> str:
    if sys.stdin is None or sys.stdin.closed:
        raise CliError(
            "no key on stdin: pipe it in, e.g. `printf '%s\\n' \"$KEY\" | milton-desktop ai set ... --key-stdin`"
        )
    try:
        line = sys.stdin.readline()
    except UnicodeDecodeError:
        raise CliError("the key on stdin is not text (not UTF-8): copy it again") from None
    if not line.strip():
        raise CliError("no key on stdin: its first line must hold the API key")
    return line.strip()


def _where(config: object) -> str:
    from milton_desktop.operations.drafting import AssistantConfig

    assert isinstance(config, AssistantConfig)
    place = "remote: post text is sent there" if config.remote else "on this computer"
    key = "a key in the keyring" if config.has_key else "no key"
    images = "reads images" if config.reads_images else "text only"
    return f"{config.base_url} ({place}), model {config.model}, {key}, {images}"


class _Progress:
    """Says on stderr what the model is doing, so a slow local model is visibly at work;
    stdout keeps only the result."""

    def __init__(self, enabled: bool, total: int) -> None:
        self.enabled = enabled and sys.stderr is not None and sys.stderr.isatty()
        self.total = total
        self._started: set[int] = set()

    def piece(self, index: int, _piece: str) -> None:
        if self.enabled and index not in self._started:
            self._started.add(index)
            what = f" {index + 1} of {self.total}" if self.total > 1 else ""
            print(f"writing{what}…", file=sys.stderr)

    def retry(self, index: int, why: str) -> None:
        what = f" {index + 1}" if self.total > 1 else ""
        print(f"asking again for{what or ' it'}: {why}", file=sys.stderr)


# ---------------------------------------------------------------- commands


def cmd_ai(ctx: AppContext, args: argparse.Namespace) -> int:
    from milton_desktop.operations import drafting

    if args.action == "voice":
        return _voice(args)
    if args.action == "set":
        key = _read_key() if args.key_stdin else None
        config, stored = drafting.configure(
            args.base_url,
            args.model,
            credentials=ctx.credentials,
            key=key,
            clear_key=args.no_key,
            images=args.images,
        )
        notes = []
        if config.remote:
            notes.append(
                f"note: {config.base_url} is not on this computer: the text of the posts "
                "you draft, rewrite or split is sent there"
            )
        if stored == "memory":
            notes.append("note: the key is kept for this session only (no keyring)")
        out(
            config.as_json(), args.json, "\n".join([f"writing assistant: {_where(config)}", *notes])
        )
        return EXIT_OK
    if args.action == "show":
        shown = drafting.current()
        if shown is None:
            out(
                {"enabled": False},
                args.json,
                "the writing assistant is off; set it up with `milton-desktop ai set "
                "--base-url URL --model NAME`. " + LOCAL_HINT,
            )
            return EXIT_OK
        out(shown.as_json(), args.json, f"writing assistant: {_where(shown)}")
        return EXIT_OK
    if args.action == "off":
        was = drafting.turn_off(credentials=ctx.credentials)
        print("the writing assistant is off; its key is deleted" if was else "it was off already")
        return EXIT_OK
    if args.action == "test":
        result = drafting.check_endpoint(credentials=ctx.credentials)
        data = {
            **result.config.as_json(),
            "models": list(result.models),
            "reply": result.reply,
        }
        out(
            data,
            args.json,
            f"{result.config.base_url} answers; model {result.config.model} said "
            f"{short(result.reply, 40)!r}; models there: {', '.join(result.models) or '(not listed)'}",
        )
        return EXIT_OK
    raise CliError(f"unknown action {args.action}")


def _voice(args: argparse.Namespace) -> int:
    from milton_desktop.operations import voices

    action = args.voice_action
    if action == "list":
        found = voices.list_voices()
        if args.json:
            out([v.as_json() for v in found], True, "")
        else:
            print(
                table(
                    [
                        [
                            v.name,
                            "built-in" if v.builtin else "yours",
                            "edited" if v.builtin and not v.shipped else "",
                            short(v.guide, 60),
                        ]
                        for v in found
                    ],
                    ["VOICE", "KIND", "", "GUIDE"],
                )
            )
        return EXIT_OK
    if action == "show":
        voice = voices.get_voice(args.name)
        out(voice.as_json(), args.json, voice.guide)
        return EXIT_OK
    if action == "set":
        if args.reset:
            voice = voices.reset_voice(args.name)
            print(f"the guide of {voice.name!r} is the shipped one again")
            return EXIT_OK
        guide = _read_guide(args.guide_file)
        voice = voices.set_voice(args.name, guide)
        print(f"voice {voice.name!r} saved ({len(voice.guide)} characters of guide)")
        return EXIT_OK
    if action == "remove":
        voices.remove_voice(args.name)
        print(f"voice {args.name.strip().lower()!r} removed")
        return EXIT_OK
    raise CliError(f"unknown action {action}")


def _read_guide(name: str) -> str:
    if name == "-":
        return sys.stdin.read()
    path = Path(name)
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CliError(f"there is no file {name}") from None
    except UnicodeDecodeError:
        raise CliError(f"{name} is not UTF-8 text: save it as UTF-8") from None
    except OSError as exc:
        raise CliError(f"cannot read {name}: {exc.strerror}") from None


def cmd_draft(ctx: AppContext, args: argparse.Namespace) -> int:
    from milton_desktop.operations import drafting

    progress = _Progress(not args.json, args.n)
    result = drafting.draft(
        args.voice,
        args.about,
        args.platform,
        args.n,
        credentials=ctx.credentials,
        on_piece=progress.piece,
        on_retry=progress.retry,
    )
    for refused in result.refused:
        state = "incomplete" if not refused.complete else "over the limit"
        print(
            f"milton-desktop: a draft was not kept ({state}: {refused.problem}): "
            f"{short(refused.text, 80)!r}",
            file=sys.stderr,
        )
    if args.json:
        out(
            {
                "posts": [{"id": pid, "text": text} for pid, text in result.saved],
                "refused": [s.as_json() for s in result.refused],
            },
            True,
            "",
        )
    else:
        for pid, _text in result.saved:
            print(pid)
    return EXIT_OK if result.saved else EXIT_FAIL


def cmd_rewrite(ctx: AppContext, args: argparse.Namespace) -> int:
    from milton_desktop.operations import drafting
    from milton_desktop.publishers import registry

    progress = _Progress(not args.json, 1)
    result = drafting.rewrite(
        args.post_id,
        args.platform,
        args.voice,
        credentials=ctx.credentials,
        on_piece=progress.piece,
        on_retry=progress.retry,
    )
    for skipped in result.skipped:
        print(f"milton-desktop: not changed: {skipped}", file=sys.stderr)
    label = registry.label(result.platform)
    where = (
        f"; schedules {', '.join(map(str, result.schedules))} now use it"
        if result.schedules
        else ""
    )
    out(
        {
            "id": result.post_id,
            "platform": result.platform,
            "text": result.text,
            "schedules": list(result.schedules),
        },
        args.json,
        f"{result.text}\n\n(kept as post {result.post_id}'s text for {label}{where})",
    )
    return EXIT_OK


def cmd_split(ctx: AppContext, args: argparse.Namespace) -> int:
    from milton_desktop.operations import drafting

    progress = _Progress(not args.json, 1)
    parts = drafting.split(
        args.post_id,
        args.platform,
        args.voice,
        credentials=ctx.credentials,
        on_piece=progress.piece,
        on_retry=progress.retry,
    )
    out(
        {"id": args.post_id, "parts": parts},
        args.json,
        "\n\n".join(f"[{k}/{len(parts)}] {p}" for k, p in enumerate(parts, 1)),
    )
    return EXIT_OK


COMMANDS = {"ai": cmd_ai, "draft": cmd_draft, "rewrite": cmd_rewrite, "split": cmd_split}
