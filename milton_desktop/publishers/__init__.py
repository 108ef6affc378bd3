"""Platform adapters, found by name."""

from __future__ import annotations

import importlib
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from milton_desktop.publishers.base import Publisher

#: platform name -> module holding its ``Publisher`` subclass (imported on first use)
REGISTRY: dict[str, str] = {
    "linkedin": "milton_desktop.publishers.linkedin",
    "x": "milton_desktop.publishers.x",
    "instagram": "milton_desktop.publishers.instagram",
}

PLATFORM_LABELS = {"linkedin": "LinkedIn", "x": "X", "instagram": "Instagram"}


def publisher_class(platform: str) -> type[Publisher]:
    try:
        module = importlib.import_module(REGISTRY[platform])
    except KeyError:
        raise ValueError(
            f"unknown platform {platform!r}: choose one of {', '.join(REGISTRY)}"
        ) from None
    return module.PUBLISHER


def env_api_base(platform: str) -> str | None:
    """``MILTON_<PLATFORM>_API_BASE`` points every account of a platform at another server."""
    return os.environ.get(f"MILTON_{platform.upper()}_API_BASE") or None


def make_publisher(platform: str, api_base: str | None = None, **kwargs: Any) -> Publisher:
    """A publisher for ``platform``; the account's ``api_base`` wins over the environment."""
    cls = publisher_class(platform)
    return cls(api_base=api_base or env_api_base(platform), **kwargs)
