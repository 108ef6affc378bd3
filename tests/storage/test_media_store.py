"""Team mode: media bytes in the database, written when a file is added on one
machine and fetched into another machine's cache when it needs them."""

from __future__ import annotations

import pytest

from milton_desktop.operations import posts
from milton_desktop.operations.posts import MediaInput
from milton_desktop.storage import media_store, queries
from milton_desktop.storage.db import close_database, open_database
from milton_desktop.storage.models import MediaBlob, Post
from tests.operations.helpers import jpeg


def test_a_file_added_on_one_machine_is_fetched_whole_on_another(tmp_path, postgres_url):
    alice, bob = tmp_path / "alice", tmp_path / "bob"
    alice.mkdir()
    bob.mkdir()
    img = jpeg(tmp_path / "pic.jpg", 640, 480)
    open_database(postgres_url, local_dir=alice)
    post = posts.add_post("hello", media=[MediaInput(path=img)], media_dir=alice / "media")
    (stored,) = MediaBlob.select()
    assert stored.size == img.stat().st_size and stored.mime == "image/jpeg"
    close_database()
    original = img.read_bytes()
    import shutil

    shutil.rmtree(alice / "media")  # Bob's computer is another: Alice's files are not there
    img.unlink()

    open_database(postgres_url, local_dir=bob)
    try:
        (item,) = queries.media_items(Post.get_by_id(post.id))
        assert item.path is not None and item.path.parent == bob / media_store.CACHE_DIR
        assert item.path.read_bytes() == original
        # the second time it comes from the cache
        assert media_store.local_path(Post.get_by_id(post.id).media[0].path) == item.path
    finally:
        close_database()


def test_a_large_file_is_stored_in_chunks_and_read_back_the_same(
    tmp_path, postgres_url, monkeypatch
):
    monkeypatch.setattr(media_store, "CHUNK", 1000)
    data = b"\xff\xd8" + bytes(range(256)) * 40 + b"\xff\xd9"
    src = tmp_path / "big.bin"
    src.write_bytes(data)
    import hashlib

    digest = hashlib.sha256(data).hexdigest()
    open_database(postgres_url, local_dir=tmp_path)
    try:
        assert media_store.put(src, digest, "image/jpeg")
        assert not media_store.put(src, digest, "image/jpeg")  # content-addressed: once
        assert MediaBlob.select().where(MediaBlob.sha256 == digest).count() == 11
        out = tmp_path / "back" / f"{digest}.jpg"
        assert media_store.write_to(digest, out)
        assert out.read_bytes() == data
    finally:
        close_database()


@pytest.mark.sqlite_only("about the home's own file")
def test_a_home_database_keeps_its_files_and_no_blobs(db, tmp_path, milton_home):
    img = jpeg(tmp_path / "pic.jpg")
    posts.add_post("mine", media=[MediaInput(path=img)], media_dir=milton_home / "media")
    assert MediaBlob.select().count() == 0
