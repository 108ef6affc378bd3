"""The platforms, found by looking at the modules of this package.

A module of ``publishers/`` that declares ``PLATFORM`` (a :class:`Platform`) is a
platform; nothing else keeps a list of them. Importing a platform module is cheap
(``requests`` is imported only when a publisher makes its first call), so the
window can read labels and colours at start-up.
"""

from __future__ import annotations

import importlib
import logging
import os
import pkgutil
from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

from milton_desktop.domain.content import Content, Problem
from milton_desktop.domain.errors import UserError
from milton_desktop.publishers.platform import Platform

if TYPE_CHECKING:
    from milton_desktop.publishers.base import Publisher

log = logging.getLogger("milton.publish")

PACKAGE = "milton_desktop.publishers"
#: the package's own machinery, not platforms (and slow to import: oauth's HTTP server)
_MACHINERY = frozenset(
    {
        "base",
        "catalogue",
        "deadline",
        "http",
        "imaging",
        "linkcard",
        "oauth",
        "platform",
        "registry",
    }
)


@cache
def _platforms() -> dict[str, Platform]:
    package = importlib.import_module(PACKAGE)
    found: list[Platform] = []
    for info in pkgutil.iter_modules(package.__path__):
        if info.name in _MACHINERY:
            continue
        try:
            module = importlib.import_module(f"{PACKAGE}.{info.name}")
        except Exception:  # one broken platform must not take the others (or --help) down
            log.exception("the platform module %s does not import; it is left out", info.name)
            continue
        descriptor = getattr(module, "PLATFORM", None)
        if isinstance(descriptor, Platform):
            found.append(descriptor)
    return {p.name: p for p in sorted(found, key=lambda p: (p.order, p.name))}


def platforms() -> tuple[Platform, ...]:
    """Every platform, in display order."""
    return tuple(_platforms().values())


def names() -> tuple[str, ...]:
    """Every platform's stored name, in display order."""
    return tuple(_platforms())


def find(name: str) -> Platform | None:
    """The platform called ``name``, or None (a database written by a newer version).

    Only that platform's module is imported (it is named after the platform): an
    idle scheduler with one X account does not load the five others.
    """
    if _platforms.cache_info().currsize:
        return _platforms().get(name)
    return _one(name)


@cache
def _one(name: str) -> Platform | None:
    if not name.isidentifier() or name in _MACHINERY:
        return None
    try:
        module = importlib.import_module(f"{PACKAGE}.{name}")
    except ModuleNotFoundError:
        return None
    except Exception:  # as _platforms() does: a broken module is left out, and logged
        log.exception("the platform module %s does not import; it is left out", name)
        return None
    descriptor = getattr(module, "PLATFORM", None)
    if isinstance(descriptor, Platform) and descriptor.name == name:
        return descriptor
    return _platforms().get(name)  # a module named otherwise: look at them all


def find_all(names: Sequence[str]) -> tuple[Platform, ...]:
    """The known platforms among ``names`` (importing only theirs), in display order."""
    found = {p.name: p for p in (find(n) for n in set(names)) if p is not None}
    return tuple(sorted(found.values(), key=lambda p: (p.order, p.name)))


def platform(name: str) -> Platform:
    """The platform called ``name``; :class:`UserError` names the choices."""
    found = find(name)
    if found is None:
        raise UserError(f"unknown platform {name!r}: choose one of {', '.join(names())}")
    return found


def label(name: str) -> str:
    """How the user reads a platform's name (its stored name if it is unknown here)."""
    found = find(name)
    return found.label if found else name


def validate(name: str, content: Content, tier: str | None = None) -> list[Problem]:
    """Problems that would make platform ``name`` refuse ``content`` from an account
    of ``tier`` (see :meth:`Platform.rules_for`), with no network."""
    return platform(name).validate(content, tier)


def validate_parts(name: str, parts: Sequence[Content], tier: str | None = None) -> list[Problem]:
    """Problems with a post and its follow-ups on platform ``name``."""
    return platform(name).validate_parts(parts, tier)


def labels(conjunction: str = "and") -> str:
    """Every platform's label in a sentence: ``LinkedIn, X and Instagram``."""
    found = [p.label for p in platforms()]
    if len(found) < 2:
        return "".join(found)
    return f"{', '.join(found[:-1])} {conjunction} {found[-1]}"


def env_api_base(name: str) -> str | None:
    """``MILTON_<PLATFORM>_API_BASE`` points every account of a platform at another server."""
    return os.environ.get(f"MILTON_{name.upper()}_API_BASE") or None


def make_publisher(name: str, api_base: str | None = None, **kwargs: Any) -> Publisher:
    """A publisher for platform ``name``; the account's ``api_base`` wins over the environment."""
    cls = platform(name).publisher
    return cls(api_base=api_base or env_api_base(name), **kwargs)
