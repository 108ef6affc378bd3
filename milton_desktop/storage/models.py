"""The tables (peewee models). Table names follow the original daemon's schema.

Instants are stored as UTC text of one fixed width, so they sort and compare
correctly as strings inside SQLite and index well. Tokens are never stored here.
"""

from __future__ import annotations

from datetime import UTC, datetime

import peewee as pw

from milton_desktop.domain.status import AccountStatus, MailState, Status
from milton_desktop.storage import backend


class _Database(pw.DatabaseProxy):
    """The one database every model and query uses: the local SQLite file by default, a
    shared PostgreSQL database in team mode (storage/backend.py makes either and binds
    it here). Transactions are the backend's own: both take the write lock up front."""

    def atomic(self, *args: object, **kwargs: object) -> pw._atomic:
        return self.obj.atomic(*args, **kwargs)

    def connection_context(self) -> pw.ConnectionContext:
        return self.obj.connection_context()


database = _Database()

_FMT = "%Y-%m-%d %H:%M:%S.%f"


def utc_text(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("naive datetime given where a UTC instant is required")
    return value.astimezone(UTC).strftime(_FMT)


class UTCDateTimeField(pw.Field):
    """An aware UTC datetime stored as fixed-width UTC text."""

    field_type = "TEXT"

    def db_value(self, value: datetime | str | None) -> str | None:
        if value is None or isinstance(value, str):
            return value
        return utc_text(value)

    def python_value(self, value: str | datetime | None) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, datetime):  # aggregates (MIN/MAX) may come back converted
            return value if value.tzinfo else value.replace(tzinfo=UTC)
        return datetime.fromisoformat(value).replace(tzinfo=UTC)


class _FalseDefault(pw.Node):
    """A flag column's ``DEFAULT`` in the open database's words (SQLite stores 0, and
    its files keep the text they were made with; PostgreSQL has a real boolean)."""

    def __sql__(self, ctx: pw.Context) -> pw.Context:
        return ctx.literal("DEFAULT FALSE" if backend.current().is_postgres else "DEFAULT 0")


def _now() -> datetime:
    return datetime.now(UTC)


class BaseModel(pw.Model):
    """Every table's base. Each declares its ``id`` (and the ``*_id`` columns of its
    foreign keys) so the type checker knows what peewee adds at run time."""

    class Meta:
        database = database
        legacy_table_names = False


class Account(BaseModel):
    id = pw.AutoField()
    platform = pw.CharField(max_length=16)
    display_name = pw.CharField(unique=True)
    username = pw.CharField(default="")
    remote_id = pw.CharField(default="")
    api_base = pw.CharField(null=True)
    status = pw.CharField(default=AccountStatus.CONNECTED.value)
    token_expires_at = UTCDateTimeField(null=True)
    created_at = UTCDateTimeField(default=_now)
    token_refreshed_at = UTCDateTimeField(null=True)
    #: the account's plan where it changes the limits (X: "premium"); None = standard
    tier = pw.CharField(max_length=32, null=True)
    #: the person's or page's name as the platform gives it (LinkedIn has no handles)
    profile_name = pw.CharField(default="")
    #: the IANA zone its queue slots are read in; None follows the app's zone
    timezone = pw.CharField(null=True)
    #: team mode: its posts wait for a member's approval before they can go out
    require_approval = pw.BooleanField(default=False, constraints=[_FalseDefault()])

    class Meta:
        table_name = "accounts"


class Post(BaseModel):
    id = pw.AutoField()
    # backrefs, declared for the type checker (peewee adds them at run time)
    media: pw.ModelSelect[Media]
    schedules: pw.ModelSelect[ScheduledPost]
    recurrences: pw.ModelSelect[Recurrence]
    body = pw.TextField(default="")
    voice = pw.CharField(default="personal")
    #: the texts after the main one, in order (JSON list): a thread or first comments
    follow_ups = pw.TextField(default="[]", constraints=[pw.SQL("DEFAULT '[]'")])
    #: seconds to wait between two parts
    follow_up_delay = pw.IntegerField(default=0, constraints=[pw.SQL("DEFAULT 0")])
    created_at = UTCDateTimeField(default=_now)
    updated_at = UTCDateTimeField(default=_now)
    #: the post's own text per platform (JSON object, platform name -> text), which a
    #: new schedule to that platform takes instead of ``body``
    variants = pw.TextField(default="{}", constraints=[pw.SQL("DEFAULT '{}'")])

    class Meta:
        table_name = "posts"


class Media(BaseModel):
    id = pw.AutoField()
    post_id: int
    post = pw.ForeignKeyField(Post, backref="media", on_delete="CASCADE")
    position = pw.IntegerField(default=0)
    #: which part of the post it belongs to: 0 the main text, k its k-th follow-up
    part = pw.IntegerField(default=0, constraints=[pw.SQL("DEFAULT 0")])
    kind = pw.CharField(max_length=8)  # image | video
    path = pw.CharField(null=True)  # inside the app's media dir, named by content hash
    url = pw.CharField(null=True)  # public URL (Instagram fetches media from one)
    mime = pw.CharField(default="")
    bytes = pw.IntegerField(default=0)
    width = pw.IntegerField(null=True)
    height = pw.IntegerField(null=True)
    alt_text = pw.TextField(default="")
    original_name = pw.CharField(default="")

    class Meta:
        table_name = "media"


class Recurrence(BaseModel):
    id = pw.AutoField()
    post_id: int
    account_id: int
    schedules: pw.ModelSelect[ScheduledPost]
    post = pw.ForeignKeyField(Post, backref="recurrences", on_delete="CASCADE")
    account = pw.ForeignKeyField(Account, backref="recurrences", on_delete="CASCADE")
    rrule = pw.TextField()
    dtstart_local = pw.CharField()  # wall-clock ISO, e.g. 2026-03-10T10:00:00
    timezone = pw.CharField()
    text_override = pw.TextField(null=True)
    active = pw.BooleanField(default=True)
    materialized_until = UTCDateTimeField(null=True)
    created_at = UTCDateTimeField(default=_now)
    #: the member who made the rule: its occurrences are theirs
    created_by = pw.CharField(null=True)

    class Meta:
        table_name = "recurrences"


class ScheduledPost(BaseModel):
    id = pw.AutoField()
    post_id: int
    account_id: int
    recurrence_id: int | None
    results: pw.ModelSelect[PublishingResult]
    post = pw.ForeignKeyField(Post, backref="schedules", on_delete="CASCADE")
    account = pw.ForeignKeyField(Account, backref="schedules", on_delete="CASCADE")
    text_override = pw.TextField(null=True)
    scheduled_time = UTCDateTimeField()
    timezone = pw.CharField(default="UTC")
    status = pw.CharField(default=Status.PENDING.value)
    attempts = pw.IntegerField(default=0)
    next_attempt_at = UTCDateTimeField()
    claimed_by = pw.CharField(null=True)
    created_at = UTCDateTimeField(default=_now)
    updated_at = UTCDateTimeField(default=_now)
    published_at = UTCDateTimeField(null=True)
    remote_id = pw.CharField(null=True)
    remote_url = pw.CharField(null=True)
    error_message = pw.TextField(null=True)
    recurrence = pw.ForeignKeyField(
        Recurrence, null=True, backref="schedules", on_delete="SET NULL"
    )
    #: published, but with something the user should know (e.g. alt text left out)
    warning = pw.TextField(null=True)
    #: JSON: where a publish that will be retried stands (the publisher's checkpoint)
    resume = pw.TextField(null=True)
    #: what each part became, as JSON (``domain/thread.py``): where a thread carries on
    parts = pw.TextField(null=True)
    #: the install id of the machine whose engine holds the claim (team mode; added
    #: last so a migrated table matches a new one)
    claimed_machine = pw.CharField(null=True)
    #: the members who made it and who changed it last (None: before members existed,
    #: or made by a repeat rule's engine)
    created_by = pw.CharField(null=True)
    updated_by = pw.CharField(null=True)
    #: who approved it and when, on an account that requires approval
    approved_by = pw.CharField(null=True)
    approved_at = UTCDateTimeField(null=True)

    class Meta:
        table_name = "scheduled_posts"
        indexes = (
            (("status", "next_attempt_at"), False),
            (("status", "scheduled_time"), False),
            (("scheduled_time",), False),
            # the queue asks which of one account's times are taken
            (("account", "scheduled_time"), False),
        )


class PublishingResult(BaseModel):
    id = pw.AutoField()
    schedule_id: int
    schedule = pw.ForeignKeyField(ScheduledPost, backref="results", on_delete="CASCADE")
    attempt = pw.IntegerField()
    started_at = UTCDateTimeField()
    finished_at = UTCDateTimeField(null=True)
    outcome = pw.CharField()  # an AttemptOutcome
    http_status = pw.IntegerField(null=True)
    error_kind = pw.CharField(null=True)
    error_message = pw.TextField(null=True)
    remote_id = pw.CharField(null=True)
    remote_url = pw.CharField(null=True)
    lateness_ms = pw.IntegerField(default=0)
    warning = pw.TextField(null=True)
    #: the outcome journal entry this result was recorded from (engine.journal)
    journal_key = pw.CharField(null=True, unique=True)
    #: the part this attempt was about (0: the main post)
    part = pw.IntegerField(default=0, constraints=[pw.SQL("DEFAULT 0")])
    #: every part's state after this attempt, as ``list --json`` shows it
    parts = pw.TextField(null=True)
    #: how an unknown outcome was settled on the platform, when it was
    resolution = pw.TextField(null=True)

    class Meta:
        table_name = "publishing_results"


class QueueSlot(BaseModel):
    """One weekly posting time of an account's queue, a wall-clock time in its zone."""

    id = pw.AutoField()
    account_id: int
    account = pw.ForeignKeyField(Account, backref="queue_slots", on_delete="CASCADE")
    weekday = pw.IntegerField()  # 0 = Monday
    minute = pw.IntegerField()  # minutes after local midnight

    class Meta:
        table_name = "queue_slots"
        indexes = ((("account", "weekday", "minute"), True),)


class PostMetric(BaseModel):
    """One snapshot of a published post's engagement, as its platform reported it.

    The counters are a JSON object (``{"likes": 3, "reposts": 1}``): each platform has
    its own set, and platforms add some (LinkedIn's saves), so fixed columns would be
    mostly empty and need a migration per counter. The two figures queried in SQL
    (interactions, impressions) have their own columns.
    """

    id = pw.AutoField()
    schedule_id: int
    account_id: int
    schedule = pw.ForeignKeyField(ScheduledPost, backref="metrics", on_delete="CASCADE")
    account = pw.ForeignKeyField(Account, backref="metrics", on_delete="CASCADE")
    platform = pw.CharField(max_length=16)
    #: the post's id on the platform, as the publish recorded it
    remote_id = pw.CharField()
    taken_at = UTCDateTimeField()
    #: 1h | 24h | 7d after it went out, or manual (``insights fetch``)
    age_bucket = pw.CharField(max_length=8)
    counters = pw.TextField(default="{}")
    #: the sum of the platform's interaction counters
    interactions = pw.IntegerField(default=0)
    #: how often it was shown, where the platform counts that; None where it does not
    impressions = pw.IntegerField(null=True)

    class Meta:
        table_name = "post_metrics"
        indexes = (
            # the latest snapshot of each post
            (("schedule", "taken_at"), False),
            # an account's snapshots, for best times and the insights view
            (("account", "taken_at"), False),
        )


class Voice(BaseModel):
    """A voice posts are written in, and its guide: the writing assistant's system prompt."""

    id = pw.AutoField()
    name = pw.CharField(max_length=32, unique=True)
    guide = pw.TextField()
    #: shipped with the app (personal, coach, pr): its guide may change, it stays
    builtin = pw.BooleanField(default=False, constraints=[_FalseDefault()])
    updated_at = UTCDateTimeField(default=_now)

    class Meta:
        table_name = "voices"


class MailOutbox(BaseModel):
    """One notification mail: written with the outcome it is about, sent by the mail
    worker. ``key`` names that outcome (the event, the schedule and its attempt), so one
    outcome never queues two mails; the message is frozen (subject, body, Message-ID)
    at the first try, so a retry sends the same mail.

    ``status``: pending, sending (handed to the server: a row left so by a stopped
    process becomes unknown), sent, failed (refused for good, ``last_error`` says why),
    unknown (the server may have accepted it: never sent again on its own)."""

    id = pw.AutoField()
    key = pw.CharField(unique=True)
    event = pw.CharField(max_length=16)
    schedule_id = pw.IntegerField(null=True)  # none for the weekly summary
    result_id = pw.IntegerField(null=True)  # the publishing_results row it is about
    status = pw.CharField(max_length=16, default=MailState.PENDING.value)
    attempts = pw.IntegerField(default=0)
    next_attempt_at = UTCDateTimeField()
    created_at = UTCDateTimeField(default=_now)
    sent_at = UTCDateTimeField(null=True)
    message_id = pw.CharField(null=True)
    subject = pw.TextField(null=True)
    body = pw.TextField(null=True)
    #: the server's last answer, or why nothing reached it
    last_error = pw.TextField(null=True)
    #: the server's answer to the accepted message ("250 2.0.0 Ok: queued as …")
    reply = pw.TextField(null=True)

    class Meta:
        table_name = "mail_outbox"
        indexes = ((("status", "next_attempt_at"), False),)


class Setting(BaseModel):
    key = pw.CharField(primary_key=True)
    value = pw.TextField()  # JSON

    class Meta:
        table_name = "settings"


class Machine(BaseModel):
    """One client of a team database: a home (its data folder, with its own install id
    and keyring), not a computer. Its heartbeat says it is alive; ``accounts`` which
    accounts' tokens its keyring holds, so every client can tell who can publish what."""

    id = pw.AutoField()
    install_id = pw.CharField(unique=True)
    #: who and where, for people: "alice on alice-laptop"
    label = pw.CharField()
    started_at = UTCDateTimeField()
    last_seen_at = UTCDateTimeField()
    #: the heartbeat interval it promised, in seconds: stale after three missed beats
    interval_s = pw.IntegerField()
    #: False after a clean exit, so nobody waits three beats to know
    online = pw.BooleanField()
    #: its scheduler is paused by its user: alive, but publishing nothing
    paused = pw.BooleanField(default=False)
    #: the ids of the accounts whose token it holds (JSON list)
    accounts = pw.TextField()

    class Meta:
        table_name = "machines"


class MediaBlob(BaseModel):
    """Team mode: one chunk of a media file's bytes, addressed by the file's SHA-256, so
    any machine can publish, show or export a post whichever machine added its media
    (each keeps a cache of the files it fetched; see storage/media_store.py)."""

    id = pw.AutoField()
    sha256 = pw.CharField(max_length=64)
    #: the chunk's place in the file, from 0
    seq = pw.IntegerField()
    #: the whole file's size and type (the same on every chunk)
    size = pw.BigIntegerField()
    mime = pw.CharField()
    data = pw.BlobField()

    class Meta:
        table_name = "media_blobs"
        indexes = ((("sha256", "seq"), True),)


ALL_MODELS: list[type[BaseModel]] = [
    Account,
    Post,
    Media,
    Recurrence,
    ScheduledPost,
    PublishingResult,
    QueueSlot,
    PostMetric,
    Voice,
    MailOutbox,
    Setting,
    Machine,
    MediaBlob,
]
