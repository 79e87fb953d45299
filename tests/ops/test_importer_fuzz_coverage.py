"""Every importer is fuzzed: the fuzz tests in tests/vault cover each registered format,
so a new importer without a fuzz sample fails here instead of going unfuzzed."""

from __future__ import annotations

from tests.vault.fixtures import fixture_bytes
from tests.vault.test_import_fuzz import SAMPLES
from vault.importers import IMPORTERS


def test_every_registered_importer_has_a_fuzz_sample():
    assert set(SAMPLES) == set(IMPORTERS)


def test_every_fuzz_sample_parses_before_it_is_mutated():
    for format_name, sample in SAMPLES.items():
        assert IMPORTERS[format_name].parse(fixture_bytes(sample)).item_count > 0, format_name
