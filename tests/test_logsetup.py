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
