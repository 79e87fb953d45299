from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ledger import anchoring, note, selectors, services, verify
from ledger.errors import EntryNotSequenced
from ledger.models import Anchor

ROOT = Path(__file__).resolve().parents[2]


def _key():
    return note.parse_verifier_key(selectors.verifier_key())


def test_a_receipt_verifies_offline(append_many):
    ids = append_many(11)
    receipt = selectors.receipt_for(ids[6])  # no checkpoint yet: one is signed for it
    assert receipt["index"] == 6
    assert receipt["tree_size"] == 11
    assert verify.verify_receipt(receipt, _key()) == []


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda r: r.update(index=5), "seq 6"),
        (lambda r: r["inclusion_proof"].pop(), "inclusion proof"),
        (lambda r: r.update(checkpoint=r["checkpoint"].replace("\n11\n", "\n12\n")), "signed"),
        (lambda r: r.update(entry=r["entry"][:-4] + "AAAA"), ""),
    ],
)
def test_an_altered_receipt_fails(append_many, change, problem):
    ids = append_many(11)
    receipt = selectors.receipt_for(ids[6])
    change(receipt)
    problems = verify.verify_receipt(receipt, _key())
    assert problems
    assert problem in " ".join(problems)


def test_no_receipt_before_sequencing(db):
    entry_id = services.append(kind="consent.granted", actor="person:a", subject="consent:1", body={})
    with pytest.raises(EntryNotSequenced):
        selectors.receipt_for(entry_id)


def test_anchor_round_trip_on_the_in_process_chain(append_many):
    append_many(4)
    checkpoint = services.sign_checkpoint()
    anchor = anchoring.anchor_checkpoint(checkpoint.id)
    assert anchor.tx_hash.startswith("0x")
    assert anchor.block_number >= 1
    assert anchoring.anchor_checkpoint(checkpoint.id) == anchor  # idempotent
    reading = anchoring.get_anchor().read(anchor.tx_hash)
    assert reading.data == b"%s\n4\n%s\n" % (
        checkpoint.body().split("\n")[0].encode(),
        checkpoint.body().split("\n")[2].encode(),
    )
    assert anchoring.verify_anchor(anchor) == []
    report = selectors.verify_database()
    assert report.ok, report.summary()
    assert report.anchors_checked == 1
    receipt = selectors.receipt_for(selectors.entries_page(start=2, end=3)[0].id)
    assert receipt["anchor"]["tx_hash"] == anchor.tx_hash
    assert verify.verify_receipt(receipt, _key(), anchor_reader=anchoring.get_anchor()) == []


def _another_process_chain():
    """A fresh in-process chain, as a second process (the web server after the demo) has."""
    from web3 import EthereumTesterProvider, Web3

    return Web3(EthereumTesterProvider())


def test_anchors_made_in_one_process_verify_in_another_through_the_journal(append_many, settings, tmp_path):
    journal = tmp_path / "chain" / "anchors.txt"
    settings.LEDGER = {**settings.LEDGER, "TESTER_CHAIN_JOURNAL": journal}
    append_many(3)
    demo_process = anchoring.EthereumTesterAnchor(_another_process_chain(), journal=journal)
    first = demo_process.publish(b"first checkpoint")

    web_process = anchoring.EthereumTesterAnchor(_another_process_chain(), journal=journal)
    reading = web_process.read(first.tx_hash)
    second = web_process.publish(b"second checkpoint")  # after replaying the first: no fork

    assert (reading.data, reading.block_number, reading.chain_id) == (
        b"first checkpoint",
        first.block_number,
        first.chain_id,
    )
    assert second.block_number == first.block_number + 1
    assert demo_process.read(second.tx_hash).data == b"second checkpoint"
    assert journal.read_text().split() == [b"first checkpoint".hex(), b"second checkpoint".hex()]
    # get_anchor() takes the journal from the settings.
    assert anchoring.get_anchor().journal == journal


def test_without_a_journal_another_process_cannot_read_the_anchor():
    first = anchoring.EthereumTesterAnchor(_another_process_chain()).publish(b"only here")

    with pytest.raises(LookupError, match="is not on chain"):
        anchoring.EthereumTesterAnchor(_another_process_chain()).read(first.tx_hash)


def test_an_altered_anchor_is_rejected(append_many):
    append_many(4)
    first = services.sign_checkpoint()
    real = anchoring.anchor_checkpoint(first.id)
    append_many(2)
    second = services.sign_checkpoint()
    other = anchoring.anchor_checkpoint(second.id)
    # the anchor of checkpoint 4 claims the transaction that carries checkpoint 6
    forged = Anchor(
        checkpoint=first,
        backend=real.backend,
        chain_id=real.chain_id,
        tx_hash=other.tx_hash,
        block_number=other.block_number,
    )
    assert "not this checkpoint" in " ".join(anchoring.verify_anchor(forged))
    wrong_chain = Anchor(
        checkpoint=first, backend=real.backend, chain_id=1, tx_hash=real.tx_hash, block_number=real.block_number
    )
    assert "chain id" in " ".join(anchoring.verify_anchor(wrong_chain))
    unknown = Anchor(
        checkpoint=first, backend=real.backend, chain_id=real.chain_id, tx_hash="0x" + "ab" * 32, block_number=1
    )
    assert anchoring.verify_anchor(unknown)
    receipt = selectors.receipt_for(selectors.entries_page(start=1, end=2)[0].id)
    receipt["anchor"]["tx_hash"] = other.tx_hash
    assert "anchor" in " ".join(verify.verify_receipt(receipt, _key(), anchor_reader=anchoring.get_anchor()))


def test_signing_a_checkpoint_anchors_it_after_commit(append_many, django_capture_on_commit_callbacks):
    append_many(3)
    with django_capture_on_commit_callbacks(execute=True):
        checkpoint = services.sign_checkpoint()
    assert checkpoint.anchors.count() == 1


def _run_verifier(*args: str) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO")}
    return subprocess.run(
        [sys.executable, "-m", "ledger.verify", "--quiet", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_standalone_verifier_checks_an_export_and_a_receipt(append_many, tmp_path):
    from ledger.export import export_to

    ids = append_many(9)
    services.sign_checkpoint()
    export_to(tmp_path / "export")
    key_file = tmp_path / "export" / verify.KEY_FILE
    result = _run_verifier("--key", str(key_file), str(tmp_path / "export"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK: the ledger verifies" in result.stdout

    receipt_file = tmp_path / "receipt.json"
    receipt_file.write_text(json.dumps(selectors.receipt_for(ids[3])))
    result = _run_verifier("--key", key_file.read_text().strip(), str(receipt_file))
    assert result.returncode == 0, result.stdout + result.stderr

    lines = (tmp_path / "export" / verify.ENTRIES_FILE).read_bytes().splitlines()
    del lines[4]
    (tmp_path / "export" / verify.ENTRIES_FILE).write_bytes(b"\n".join(lines) + b"\n")
    result = _run_verifier("--key", str(key_file), str(tmp_path / "export"))
    assert result.returncode == 1
    assert "entry 4: out of place: the entry here carries seq 5" in result.stdout


def test_the_management_commands(append_many, tmp_path):
    from django.core.management import call_command

    append_many(5)
    call_command("sign_checkpoint")
    call_command("verify_ledger", "--quiet", "--no-anchors")
    call_command("export_ledger", str(tmp_path), "--quiet")
    assert len((tmp_path / verify.ENTRIES_FILE).read_text().splitlines()) == 5
    assert verify.verify_export(tmp_path, _key()).ok
