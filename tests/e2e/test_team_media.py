"""Two machines on one team database: a post with an image scheduled on Alice's
machine goes out from Bob's, which never had the file; the bytes that reach the
platform are the file's."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta

from milton_desktop.domain.clock import FakeClock
from milton_desktop.domain.credential import Credential
from milton_desktop.domain.status import Status
from milton_desktop.engine.machine import Engine, EngineConfig
from milton_desktop.operations import posts, schedules
from milton_desktop.operations.posts import MediaInput
from milton_desktop.storage import media_store
from milton_desktop.storage.credentials import CredentialStore
from milton_desktop.storage.db import close_database, open_database
from milton_desktop.storage.models import Account, ScheduledPost
from tests.fakes.x import FakeX
from tests.operations.helpers import jpeg

NOW = datetime(2027, 1, 12, 9, 0, tzinfo=UTC)
X_USER, X_TOKEN = "2244994945", "x-token-team"


def test_a_post_scheduled_on_one_machine_publishes_its_image_from_another(
    tmp_path, postgres_url, memory_keyring
):
    alice, bob = tmp_path / "alice", tmp_path / "bob"
    alice.mkdir()
    bob.mkdir()
    clock = FakeClock(NOW)
    image = jpeg(tmp_path / "launch.jpg", 1200, 675)
    original = image.read_bytes()
    with FakeX() as fake:
        fake.add_user(X_USER, "miltonhq", "Milton HQ", token=X_TOKEN)

        open_database(postgres_url, local_dir=alice)  # Alice's machine schedules it
        acc = Account.create(
            platform="x", display_name="hq", username="miltonhq", remote_id=X_USER,
            api_base=fake.url,
        )  # fmt: skip
        post = posts.add_post("launch", media=[MediaInput(path=image)], media_dir=alice / "media")
        row = schedules.schedule(post.id, acc, NOW + timedelta(minutes=5), clock=clock)
        close_database()
        shutil.rmtree(alice / "media")  # Bob's computer has none of Alice's files
        image.unlink()

        open_database(postgres_url, local_dir=bob)  # Bob's machine holds the token
        try:
            creds = CredentialStore("bob-machine")
            creds.save("x", acc.id, Credential(X_TOKEN))
            clock.advance(timedelta(minutes=5))
            Engine(creds, clock=clock, config=EngineConfig(max_attempts=2)).publish_due()
            done = ScheduledPost.get_by_id(row.id)
            assert done.status == Status.PUBLISHED, done.error_message
            (upload,) = fake.uploads.values()
            assert upload.data == original
            assert (bob / media_store.CACHE_DIR).is_dir()
        finally:
            close_database()
