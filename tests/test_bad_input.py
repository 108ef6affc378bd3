"""Generated bad input through the command line: never a traceback, always one clear
line, and nothing half-written (integrity check and row counts before and after)."""

from __future__ import annotations

import io
import json
import resource
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import redirect_stderr, redirect_stdout

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from milton_desktop.cli import main

SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

texts = st.one_of(
    st.text(max_size=300),
    st.lists(
        st.sampled_from(
            [
                "\u200b",
                "\u200d",
                "\u202e",
                "שלום",
                "مرحبا",
                "👨‍👩‍👧‍👦",
                "🇫🇷",
                "e\u0301",
                "\ufeff",
                "a",
            ]
        ),
        max_size=60,
    ).map("".join),
    st.just("x" * 100_000),
    st.just("\x00 nul"),
)


def call(*argv):
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code = main(list(argv))
        except SystemExit as exc:
            code = exc.code
    return code, out.getvalue(), err.getvalue()


def snapshot(home):
    con = sqlite3.connect(home / "milton.sqlite3")
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return tuple(
            con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
            for t in ("posts", "media", "scheduled_posts", "accounts")
        )
    finally:
        con.close()


@pytest.fixture
def home(milton_home, memory_keyring):
    assert call("post", "list")[0] == 0
    return milton_home


@SETTINGS
@given(text=texts)
def test_any_post_text_round_trips_or_is_refused_clearly(home, text):
    before = snapshot(home)
    code, out, err = call("post", "add", f"--text={text}", "--json")
    assert "Traceback" not in err
    if code == 0:
        post_id = json.loads(out)["id"]
        posts = json.loads(call("post", "list", "--json")[1])
        assert next(p for p in posts if p["id"] == post_id)["text"] == text
    else:
        assert code == 2 and err.count("\n") == 1
        assert snapshot(home) == before


@SETTINGS
@given(
    when=st.text(max_size=40),
    tz=st.one_of(
        st.none(),
        st.text(max_size=30),
        st.sampled_from(
            ["Europe/Paris", "America/New_York", "UTC", "../../etc/passwd", "Asia/Kathmandu"]
        ),
    ),
)
def test_any_schedule_time_and_zone_is_handled(home, when, tz):
    from milton_desktop.storage.models import Account

    if not Account.select().exists():
        Account.create(platform="linkedin", display_name="work", username="u", remote_id="u")
        call("post", "add", "--text", "hello")
    before = snapshot(home)
    args = ["schedule", "1", "--account", "work", "--at", when] + (
        ["--tz", tz] if tz is not None else []
    )
    code, _out, err = call(*args)
    assert "Traceback" not in err
    if code != 0:
        assert code == 2, err
        assert snapshot(home) == before


@SETTINGS
@given(
    command=st.sampled_from(
        [
            "list",
            "upcoming",
            "cancel",
            "status",
            "post",
            "schedule",
            "resolve",
            "reschedule",
            "publish-now",
            "account",
        ]
    ),
    rest=st.lists(
        st.sampled_from(
            [
                "list",
                "upcoming",
                "cancel",
                "status",
                "post",
                "add",
                "--json",
                "--status",
                "pending",
                "--days",
                "-1",
                "9999999999999999999999",
                "schedule",
                "--at",
                "--account",
                "x",
                "--tz",
                "",
                "💥",
                "--text",
                "resolve",
                "--published",
                "reschedule",
                "publish-now",
                "0",
                "-5",
                "remove",
                "list",
            ]
        ),
        max_size=6,
    ),
)
def test_random_command_lines_never_crash(home, command, rest):
    # (With no command at all the window opens; that is the app's tests' business.)
    before = snapshot(home)
    code, _out, err = call(command, *rest)
    assert "Traceback" not in err
    assert code in (0, 1, 2)
    if code != 0:
        assert snapshot(home) == before


def test_truncated_huge_and_mislabelled_media(home, tmp_path):
    cases = {
        "truncated.jpg": b"\xff\xd8\xff\xe0" + b"\x00" * 100,
        "photo.png": b"\xff\xd8\xff\xe0\x00\x10JFIF" + b"\x00" * 50,  # a JPEG named .png, cut short
        "movie.mp4": b"not a video at all",
    }
    before = snapshot(home)
    for name, data in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        code, _, err = call("post", "add", "--text", "x", "--media", str(path))
        assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, (name, err)
    huge = tmp_path / "huge.mp4"
    with huge.open("wb") as fh:
        fh.write(b"\x00\x00\x00\x18ftypmp42")
        fh.truncate(600 * 1024 * 1024)  # sparse: 600 MB without using the disk
    code, _, err = call("post", "add", "--text", "x", "--media", str(huge))
    assert code == 2 and "larger than any platform accepts" in err
    assert snapshot(home) == before
    assert not list((home / "media").glob("*"))  # nothing copied


def test_locked_database_waits_then_succeeds(home):
    con = sqlite3.connect(home / "milton.sqlite3", isolation_level=None, check_same_thread=False)
    con.execute("BEGIN EXCLUSIVE")
    release = threading.Timer(1.0, lambda: con.execute("COMMIT"))
    release.start()
    t = time.monotonic()
    code, _, err = call("post", "add", "--text", "after the lock")
    assert code == 0, err
    assert time.monotonic() - t >= 0.9
    release.join()
    con.close()


def test_full_disk_is_reported_and_nothing_half_written(home):
    before = snapshot(home)
    size = sum(p.stat().st_size for p in home.glob("milton.sqlite3*"))

    def limit_file_size():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (size + 4096, size + 4096))

    proc = subprocess.run(
        [sys.executable, "-m", "milton_desktop", "post", "add", "--text", "y" * 100_000],
        capture_output=True,
        text=True,
        preexec_fn=limit_file_size,
        timeout=60,
        env={**__import__("os").environ, "MILTON_HOME": str(home)},
    )
    assert proc.returncode == 1, proc.stderr
    assert "full" in proc.stderr.lower() or "disk" in proc.stderr.lower(), proc.stderr
    assert "Traceback" not in proc.stderr
    assert snapshot(home) == before


def test_a_failure_midway_leaves_no_half_post(home, tmp_path, monkeypatch):
    """The database refusing the second media row (disk full) must not leave the post
    and its first media row behind."""
    import peewee

    from milton_desktop.storage.models import Media

    images = []
    for i in range(2):
        path = tmp_path / f"img{i}.gif"
        path.write_bytes(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;" + bytes([i]) + b";")
        images.append(str(path))
    real_create = Media.create
    calls = []

    def failing_create(**kw):
        calls.append(kw)
        if len(calls) == 2:
            raise peewee.OperationalError("database or disk is full")
        return real_create(**kw)

    monkeypatch.setattr(Media, "create", failing_create)
    before = snapshot(home)
    code, _, err = call(
        "post", "add", "--text", "two pictures", "--media", images[0], "--media", images[1]
    )
    assert code == 1 and "full" in err and "Traceback" not in err
    assert snapshot(home) == before


def test_read_only_database_is_refused_clearly(tmp_path):
    """A database the user cannot write (a restored backup, a wrong owner): one clear
    line, exit 1, the data untouched. Root ignores file modes, so as root the command
    runs as `nobody`."""
    import os
    import shutil
    import tempfile
    from pathlib import Path

    base = Path(tempfile.mkdtemp(prefix="milton-ro-"))
    try:
        home = base / "home"
        env = {**os.environ, "MILTON_HOME": str(home)}
        cmd = [sys.executable, "-m", "milton_desktop"]
        assert (
            subprocess.run(
                [*cmd, "post", "add", "--text", "kept"], env=env, capture_output=True
            ).returncode
            == 0
        )
        for path in [base, *base.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        (home / "logs").chmod(0o777)
        for log in (home / "logs").glob("*"):
            log.chmod(0o666)
        for db in home.glob("milton.sqlite3*"):
            db.chmod(0o444)
        prefix = []
        if os.geteuid() == 0:
            setpriv = shutil.which("setpriv")
            if setpriv is None:
                pytest.skip("running as root without setpriv to drop privileges")
            prefix = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
            probe = subprocess.run(
                [*prefix, *cmd, "--version"], env=env, capture_output=True, timeout=60
            )
            if probe.returncode != 0:
                pytest.skip("`nobody` cannot run this checkout's Python (its folders are private)")
        before = snapshot(home)
        r = subprocess.run(
            [*prefix, *cmd, "post", "add", "--text", "refused"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert r.returncode == 1
        assert "cannot write the database" in r.stderr and "permissions" in r.stderr
        assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
        assert snapshot(home) == before
    finally:
        shutil.rmtree(base, ignore_errors=True)


# ---------------------------------------------------------------- text that is not text


def _cli(*argv: str | bytes, stdin: bytes = b"") -> subprocess.CompletedProcess:
    """The real command line, with arguments as raw bytes where given."""
    return subprocess.run(
        [sys.executable, "-m", "milton_desktop", *argv],
        input=stdin,
        capture_output=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    "argv",
    [
        ("post", "add", "--text", b"caf\xe9 in Latin-1"),
        ("post", "add", "--text", "ok", "--media-url", b"https://cdn.example/\xff.jpg"),
        ("schedule", "1", "--account", b"\xfe\xff", "--at", "2030-01-01T10:00Z"),
        ("account", "add", "x", "--name", b"work\x80", "--token-stdin"),
        ("list", "--status", b"pend\xc3ing"),
    ],
)
def test_bytes_that_are_not_utf8_in_any_argument_are_bad_usage(home, argv):
    before = snapshot(home)
    r = _cli(*argv, stdin=b"a-token-value-0001\n")
    err = r.stderr.decode("utf-8", "replace")
    assert r.returncode == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "is not valid UTF-8 text" in err
    assert snapshot(home) == before


@pytest.mark.parametrize("word", ["\udcff", "a\ud800b", "\udfff tail"])
def test_lone_surrogates_in_arguments_are_bad_usage(home, word):
    # what a non-UTF-8 byte becomes inside Python (PEP 383), or a broken UTF-16 source
    before = snapshot(home)
    for argv in (("post", "add", "--text", word), ("account", "remove", word)):
        code, _out, err = call(*argv)
        assert code == 2 and err.count("\n") == 1, err
    assert snapshot(home) == before


@pytest.mark.parametrize(
    "stdin",
    [b"\xff\xfe\x00t\x00o\x00k\x00\n", "t\u00f6ken-with-umlaut-0001\n".encode(), b"\x00\x01\n"],
)
def test_a_token_on_stdin_that_is_not_plain_text_is_refused_clearly(home, stdin):
    before = snapshot(home)
    r = _cli("account", "add", "x", "--name", "work", "--token-stdin", stdin=stdin)
    err = r.stderr.decode("utf-8", "replace")
    assert r.returncode == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert snapshot(home) == before


# ---------------------------------------------------------------- instants past the calendar


@pytest.mark.parametrize(
    ("when", "tz"),
    [
        ("0001-01-01T00:00:00+14:00", None),  # before year 1 in UTC
        ("9999-12-31T23:59:59-14:00", None),  # after year 9999 in UTC
        ("0001-01-01T05:00:00", "Pacific/Kiritimati"),
        ("9999-12-31T20:00:00", "Pacific/Pago_Pago"),
        ("9999-12-31T23:59:59Z", None),  # storable, but no zone east of UTC could show it
        ("0001-01-01T00:00:00Z", None),
    ],
)
def test_instants_outside_the_calendar_after_zone_conversion_are_bad_usage(home, when, tz):
    from milton_desktop.storage.models import Account

    Account.create(platform="linkedin", display_name="work", username="u", remote_id="u")
    call("post", "add", "--text", "hello")
    before = snapshot(home)
    command = ["schedule", "1", "--account", "work", "--at", when, *(["--tz", tz] if tz else [])]
    code, _out, err = call(*command)
    assert code == 2, err
    assert err.count("\n") == 1 and "outside the dates Milton handles" in err, err
    assert snapshot(home) == before


@SETTINGS
@given(moment=st.datetimes(timezones=st.timezones()))
def test_any_representable_instant_in_any_zone_is_handled(home, moment):
    from milton_desktop.storage.models import Account

    if not Account.select().exists():
        Account.create(platform="linkedin", display_name="work", username="u", remote_id="u")
        call("post", "add", "--text", "hello")
    code, _out, err = call("schedule", "1", "--account", "work", "--at", moment.isoformat())
    assert "Traceback" not in err and "unexpected" not in err, err
    assert code in (0, 2), err


# ---------------------------------------------------------------- links that are not links


@pytest.mark.parametrize(
    "url",
    [
        "http://[::1",  # an unclosed IPv6 address
        "https://cdn.example:99999/a.jpg",  # a port past 65535
        "https://exa mple.com/a.jpg",  # a space in the host
        "https://cdn.example/a b.jpg",  # a space in the path
        "https://cdn.example/a.jpg\n",  # a newline pasted along
        "https:///a.jpg",  # no host
        "https://user@/a.jpg",  # no host, but user info
        "javascript:alert(1)",
        "//cdn.example/a.jpg",  # no scheme
        "https://cdn.example/\x07.jpg",
    ],
)
def test_a_malformed_media_url_is_bad_usage(home, url):
    before = snapshot(home)
    code, _out, err = call("post", "add", "--text", "hello", "--media-url", url)
    assert code == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err and "unexpected" not in err, err
    assert snapshot(home) == before
