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


def test_finding_one_platform_imports_only_its_module() -> None:
    code = (
        "import sys\n"
        "from milton_desktop.publishers import registry\n"
        "assert registry.find('mastodon').label == 'Mastodon'\n"
        "assert registry.find('myspace') is None and registry.find('http') is None\n"
        "assert [p.name for p in registry.find_all(['x', 'linkedin', 'x'])] == ['linkedin', 'x']\n"
        "from milton_desktop.publishers import catalogue\n"
        "loaded = {m.rsplit('.', 1)[1] for m in sys.modules\n"
        "          if m.startswith('milton_desktop.publishers.')}\n"
        "print(','.join(sorted(loaded & set(catalogue.names()))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "linkedin,mastodon,x"
