"""The static name/label table agrees with the platform descriptors, in order."""

from __future__ import annotations

import subprocess
import sys

from milton_desktop.publishers import catalogue, registry


def test_catalogue_lists_every_platform_in_the_registrys_order() -> None:
    assert tuple((p.name, p.label) for p in registry.platforms()) == catalogue.PLATFORMS


def test_catalogue_sentences_match_the_registry() -> None:
    assert catalogue.names() == registry.names()
    assert catalogue.labels() == registry.labels()
    assert catalogue.labels("or") == registry.labels("or")
    for name in registry.names():
        assert catalogue.label(name) == registry.label(name)
    assert catalogue.label("myspace") == registry.label("myspace") == "myspace"


def test_reading_the_catalogue_imports_no_platform_module() -> None:
    code = (
        "import sys\n"
        "from milton_desktop.publishers import catalogue\n"
        "catalogue.labels()\n"
        "loaded = [m for m in sys.modules if m.startswith('milton_desktop.publishers.')]\n"
        "print(','.join(sorted(loaded)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "milton_desktop.publishers.catalogue"
