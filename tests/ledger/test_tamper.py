"""Tampering that bypasses the triggers is caught, and the verifier names the exact entry."""

from __future__ import annotations

import json
import re

import pytest
from django.db import DatabaseError, connection, transaction

from ledger import entries, merkle, note, selectors, services, signing, triggers, verify
from ledger.export import export_to
from ledger.models import Checkpoint, Entry


@pytest.fixture
def ledger(append_many):
    append_many(20)
    services.sign_checkpoint()
    append_many(12)
    services.sign_checkpoint()
    return Entry.objects.count()


def _alter_exported(directory, line: int) -> None:
    """Change one byte of one exported entry (its count 3 becomes 4), as a tamperer would."""
    lines = (directory / verify.ENTRIES_FILE).read_bytes().splitlines()
    lines[line] = lines[line].replace(b'"count":3', b'"count":4')
    (directory / verify.ENTRIES_FILE).write_bytes(b"\n".join(lines) + b"\n")


def _report():
    return selectors.verify_database(check_anchors=False)


def test_the_untampered_ledger_verifies(ledger):
    report = _report()
    assert report.ok, report.summary()
    assert report.size == 32
    assert report.checkpoints_checked == 2
    assert report.root == bytes(Checkpoint.objects.get(size=32).root_hash)


def test_triggers_reject_update_and_delete(ledger):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        Entry.objects.filter(seq=3).update(kind="consent.revoked")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        Entry.objects.filter(seq=31).delete()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        Checkpoint.objects.filter(size=20).update(note="forged")
    assert Entry.objects.count() == 32


def _flip_one_byte(seq: int) -> None:
    data = bytearray(Entry.objects.get(seq=seq).data)
    position = data.index(b'"n":') + 4  # a digit inside the body: the JSON stays valid
    data[position] = ord("9") if data[position] != ord("9") else ord("8")
    Entry.objects.filter(seq=seq).update(data=bytes(data))


@pytest.mark.parametrize("seq", [0, 7, 19, 20, 31])
def test_one_changed_byte_names_the_entry(ledger, seq):
    triggers.remove(connection)  # the attacker bypasses the triggers
    _flip_one_byte(seq)
    report = _report()
    assert not report.ok
    assert report.first_bad_entry == seq
    assert "altered" in str(report.problems[0])


@pytest.mark.parametrize("seq", [0, 13, 31])
def test_a_deleted_entry_is_named(ledger, seq):
    triggers.remove(connection)
    Entry.objects.filter(seq=seq).delete()
    report = _report()
    assert report.first_bad_entry == seq
    assert "missing" in str(report.problems[0]) or "checkpoint" in str(report.problems[0])


def test_two_swapped_entries_are_named(ledger):
    triggers.remove(connection)
    first, second = Entry.objects.get(seq=5), Entry.objects.get(seq=11)
    Entry.objects.filter(seq=5).update(data=second.data, leaf_hash=second.leaf_hash)
    Entry.objects.filter(seq=11).update(data=first.data, leaf_hash=first.leaf_hash)
    report = _report()
    assert report.first_bad_entry == 5
    assert "carries seq 11" in str(report.problems[0])


def test_a_changed_prev_names_the_entry_without_recorded_hashes(ledger, tmp_path):
    export_to(tmp_path)
    (tmp_path / verify.LEAF_HASHES_FILE).unlink()  # no witness: only the chain itself
    lines = (tmp_path / verify.ENTRIES_FILE).read_bytes().splitlines()
    at = lines[9].index(b'"prev":"') + 8
    lines[9] = lines[9][:at] + (b"0" if lines[9][at : at + 1] != b"0" else b"1") + lines[9][at + 1 :]
    (tmp_path / verify.ENTRIES_FILE).write_bytes(b"\n".join(lines) + b"\n")
    key = note.parse_verifier_key(selectors.verifier_key())
    report = verify.verify_export(tmp_path, key)
    assert report.first_bad_entry == 9
    assert "broken link" in str(report.problems[0])


@pytest.mark.parametrize(
    ("strict", "jobs", "line"),
    [(False, 1, 17), (True, 1, 17), (False, 2, 7), (False, 2, 16), (False, 2, 23), (True, 2, 31)],
)
def test_an_export_verifies_and_names_an_altered_line(ledger, tmp_path, strict, jobs, line):
    export_to(tmp_path)
    key = note.parse_verifier_key(selectors.verifier_key())
    clean = verify.verify_export(tmp_path, key, strict=strict, jobs=jobs)
    assert clean.ok, clean.summary()
    assert clean.size == 32
    assert clean.checkpoints_checked == 2
    assert clean.root == bytes(Checkpoint.objects.get(size=32).root_hash)
    _alter_exported(tmp_path, line)
    report = verify.verify_export(tmp_path, key, strict=strict, jobs=jobs)
    assert report.first_bad_entry == line
    assert "altered" in str(report.problems[0])


@pytest.mark.parametrize("line", [3, 16, 20])
def test_two_processes_name_a_broken_link_like_one(ledger, tmp_path, line):
    export_to(tmp_path)
    (tmp_path / verify.LEAF_HASHES_FILE).unlink()
    _alter_exported(tmp_path, line)  # breaks the link of line + 1
    key = note.parse_verifier_key(selectors.verifier_key())
    one, two = verify.verify_export(tmp_path, key), verify.verify_export(tmp_path, key, jobs=2)
    assert one.first_bad_entry == two.first_bad_entry == line + 1
    assert str(one.problems[0]) == str(two.problems[0])
    assert "broken link" in str(two.problems[0])


@pytest.mark.parametrize("recorded", [5, 1, 72], ids=["too-few-hashes", "one-hash", "too-many-hashes"])
def test_two_processes_split_right_when_the_recorded_hashes_miscount_the_entries(ledger, tmp_path, recorded):
    """The two-process run splits where the recorded leaf hashes say the log ends; when they
    miscount, its report must still be the one-process report, word for word."""
    export_to(tmp_path)
    witness = tmp_path / verify.LEAF_HASHES_FILE
    hashes = witness.read_bytes()
    witness.write_bytes((hashes * 3)[: recorded * merkle.HASH_SIZE])
    key = note.parse_verifier_key(selectors.verifier_key())
    one, two = verify.verify_export(tmp_path, key), verify.verify_export(tmp_path, key, jobs=2)
    assert (
        (two.size, two.root, two.checkpoints_checked)
        == (one.size, one.root, one.checkpoints_checked)
        == (
            32,
            bytes(Checkpoint.objects.get(size=32).root_hash),
            2,
        )
    )
    assert [str(problem) for problem in two.problems] == [str(problem) for problem in one.problems]
    assert one.ok == (recorded > 32)


def test_strict_mode_rejects_a_malformed_entry_the_fast_path_accepts(ledger, tmp_path):
    export_to(tmp_path)
    (tmp_path / verify.LEAF_HASHES_FILE).unlink()
    lines = (tmp_path / verify.ENTRIES_FILE).read_bytes().splitlines()
    # A forged last entry that keeps a valid tail but is not JSON: well linked, yet malformed.
    lines[-1] = lines[-1].replace(b'"body":{', b'"body":{{', 1)
    (tmp_path / verify.ENTRIES_FILE).write_bytes(b"\n".join(lines) + b"\n")
    key = note.parse_verifier_key(selectors.verifier_key())
    report = verify.verify_export(tmp_path, key, strict=True)
    assert report.first_bad_entry == 31
    assert "malformed" in str(report.problems[0])


def _forge_suffix(directory, keep: int) -> None:
    """Rewrite every entry from ``keep`` on, chained correctly, and sign the new tree with the real key."""
    lines = (directory / verify.ENTRIES_FILE).read_bytes().splitlines()
    total = len(lines)
    lines = lines[:keep]
    leaves = [merkle.leaf_hash(line) for line in lines]
    prev = leaves[-1].hex()
    for seq in range(keep, total + 3):
        data = entries.encode(
            seq=seq,
            ts="2026-01-01T00:00:00.000000Z",
            kind="value.transferred",
            actor="eidetic",
            subject="partner:mallory",
            body={"amount": "1000"},
            prev=prev,
        )
        lines.append(data)
        leaves.append(merkle.leaf_hash(data))
        prev = leaves[-1].hex()
    (directory / verify.ENTRIES_FILE).write_bytes(b"\n".join(lines) + b"\n")
    (directory / verify.LEAF_HASHES_FILE).write_bytes(b"".join(leaves))
    body = note.CheckpointBody(signing.origin(), len(leaves), merkle.root_of(leaves))
    signed = note.sign(body, signing.private_key(), signing.origin())
    (directory / verify.CHECKPOINTS_FILE).write_text(json.dumps({"size": len(leaves), "note": signed}) + "\n")


def test_a_fork_signed_with_the_real_key_is_caught_by_a_kept_checkpoint(ledger, tmp_path):
    kept = Checkpoint.objects.get(size=20).note  # an auditor kept this one from an earlier visit
    export_to(tmp_path)
    _forge_suffix(tmp_path, keep=15)
    key = note.parse_verifier_key(selectors.verifier_key())
    for jobs in (1, 2):
        fresh = verify.verify_export(tmp_path, key, jobs=jobs)
        assert fresh.ok  # a newcomer cannot tell: the forgery is self-consistent and signed
        report = verify.verify_export(tmp_path, key, kept=[kept], jobs=jobs)
        assert not report.ok
        assert "fork" in str(report.problems[0])
        assert "size 20" in str(report.problems[0])


def test_the_state_directory_catches_a_later_fork(ledger, tmp_path, capsys):
    export_to(tmp_path / "export")
    key_file = str(tmp_path / "export" / verify.KEY_FILE)
    arguments = ["--quiet", "--key", key_file, "--state", str(tmp_path / "state"), str(tmp_path / "export")]
    assert verify.main(arguments) == 0
    assert "\n32\n" in (tmp_path / "state" / "checkpoint").read_text()  # the newest verified checkpoint
    _forge_suffix(tmp_path / "export", keep=25)
    assert verify.main(arguments) == 1
    assert "fork: the checkpoint of size 32 (kept by you)" in capsys.readouterr().out


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_the_command_line_shows_progress_over_the_whole_log_on_one_or_two_processes(ledger, tmp_path, capsys, jobs):
    export_to(tmp_path)
    arguments = ["--jobs", jobs, "--key", str(tmp_path / verify.KEY_FILE), str(tmp_path)]
    assert verify.main(arguments) == 0
    captured = capsys.readouterr()
    assert "OK: the ledger verifies" in captured.out
    assert re.search(r"100%\|.*\| 32(\.0)?/32(\.0)? ", captured.err), captured.err  # the bar ends at every entry
    _alter_exported(tmp_path, 20)
    assert verify.main(arguments) == 1
    assert "entry 20: altered" in capsys.readouterr().out


@pytest.mark.parametrize("source", ["missing", "empty-directory"])
def test_the_command_line_names_a_source_that_is_not_an_export(ledger, tmp_path, capsys, source):
    export_to(tmp_path / "export")
    (tmp_path / "empty-directory").mkdir()
    arguments = ["--key", str(tmp_path / "export" / verify.KEY_FILE), str(tmp_path / source)]
    assert verify.main(arguments) == 2
    captured = capsys.readouterr()
    assert f"{tmp_path / source}: neither a receipt file nor an export directory (no entries.jsonl)" in captured.err
    assert "Traceback" not in captured.err + captured.out
