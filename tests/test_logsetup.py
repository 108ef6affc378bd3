"""One logging setup: a rotating file the filter scrubs before anything is written."""

from __future__ import annotations

import logging

from milton_desktop.domain.redaction import register_secret
from milton_desktop.logsetup import setup_logging


def test_log_file_never_holds_a_token(tmp_path):
    log_file = setup_logging(tmp_path / "logs", stderr=False)
    register_secret("tok-9f8e7d6c5b4a")
    log = logging.getLogger("milton.test")
    log.info("calling with Authorization: Bearer %s", "tok-9f8e7d6c5b4a")
    try:
        raise RuntimeError("failed with access_token=tok-9f8e7d6c5b4a")
    except RuntimeError:
        log.exception("boom")
    for h in logging.getLogger("milton").handlers:
        h.flush()
    content = log_file.read_text()
    assert "boom" in content and "[redacted]" in content
    assert "tok-9f8e7d6c5b4a" not in content


def test_a_token_read_from_the_keyring_is_masked_whatever_logger_writes_it(
    tmp_path, memory_keyring
):
    """The process-wide safety net: a token the store loaded is masked in any record
    the log's handlers see, even one a module wrote without scrubbing anything, and
    percent-encoded as a URL would carry it."""
    from urllib.parse import quote

    from milton_desktop.domain.credential import Credential
    from milton_desktop.storage.credentials import CredentialStore

    token, refresh = "IGAA/loaded+from=keyring77", "rt/loaded+from=keyring88"
    memory_keyring.set_password(
        "milton-desktop", "instagram:7@inst", Credential(token, refresh_token=refresh).to_json()
    )
    log_file = setup_logging(tmp_path / "logs", stderr=False)
    CredentialStore("inst").load("instagram", 7)
    logging.getLogger("milton.publish.instagram").warning("Graph said: bad token %s", token)
    logging.getLogger("milton").error("GET /me?x=%s -> 400", quote(refresh, safe=""))
    for h in logging.getLogger("milton").handlers:
        h.flush()
    content = log_file.read_text()
    assert content.count("[redacted]") == 2
    for secret in (token, refresh, quote(token, safe=""), quote(refresh, safe="")):
        assert secret not in content


def test_a_warning_no_handler_takes_reaches_stderr_masked(tmp_path):
    """A library's logger outside ``milton`` has no handler here: Python's last-resort
    handler prints its warnings to stderr, and they are masked too."""
    import subprocess
    import sys

    secret = "lib-echo/SECRET+value=42"
    code = (
        "import logging, sys\n"
        "from milton_desktop.logsetup import setup_logging\n"
        "from milton_desktop.domain.redaction import register_secret\n"
        f"setup_logging(__import__('pathlib').Path({str(tmp_path)!r}), stderr=False)\n"
        f"register_secret({secret!r})\n"
        f"logging.getLogger('somelibrary').warning('retrying with %s', {secret!r})\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert "retrying with [redacted]" in out.stderr
    assert secret not in out.stderr
