"""A keyring of its own for one "machine" (home): a private D-Bus session bus with an
unlocked GNOME Keyring on it, so several homes on one computer hold separate secrets,
as separate computers would."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

_PROBE = (
    "import keyring; kr = keyring.get_keyring();"
    " assert 'SecretService' in type(kr).__module__, kr;"
    " kr.set_password('milton-probe', 'p', 'v'); kr.delete_password('milton-probe', 'p')"
)


class KeyringSession:
    """``env`` is what a process of this home runs with (its bus, its keyring's files)."""

    def __init__(self, root: Path, name: str) -> None:
        runtime = root / f"{name}-run"
        runtime.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.env = {
            **os.environ,
            "XDG_DATA_HOME": str(root / f"{name}-data"),
            "XDG_RUNTIME_DIR": str(runtime),
        }
        self.bus = subprocess.Popen(
            ["dbus-daemon", "--session", "--nofork", "--print-address=1"],
            stdout=subprocess.PIPE,
            text=True,
            env=self.env,
        )
        assert self.bus.stdout is not None
        self.env["DBUS_SESSION_BUS_ADDRESS"] = self.bus.stdout.readline().strip()
        self.keyring = subprocess.Popen(
            ["gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=self.env,
        )
        assert self.keyring.stdin is not None
        self.keyring.stdin.write(b"x")
        self.keyring.stdin.close()
        deadline = time.monotonic() + 30
        while True:
            probe = subprocess.run(
                [sys.executable, "-c", _PROBE], env=self.env, capture_output=True, timeout=30
            )
            if probe.returncode == 0:
                break
            if time.monotonic() > deadline:
                self.close()
                raise RuntimeError(f"the keyring of {name} did not start: {probe.stderr[-500:]}")
            time.sleep(0.2)

    def close(self) -> None:
        for proc in (self.keyring, self.bus):
            proc.terminate()
            proc.wait(timeout=10)
        assert self.bus.stdout is not None
        self.bus.stdout.close()
