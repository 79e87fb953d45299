"""Writing an auditor's export, read by ``python -m ledger.verify``.

entries.jsonl: every entry's canonical bytes, one per line; leaf_hashes.bin: the recorded
32-byte leaf hashes in order; checkpoints.jsonl: every signed checkpoint and its anchor;
key.txt: the log's verifier key (an auditor should also get it from elsewhere).
"""

from __future__ import annotations

import json
from pathlib import Path

from ledger import selectors, verify
from ledger.models import Checkpoint, Entry


def export_to(directory: Path, *, progress: bool = False) -> tuple[int, int]:
    """Write the whole ledger under ``directory``; return (entries, checkpoints) written."""
    directory.mkdir(parents=True, exist_ok=True)
    # Snapshot the size first: entries sequenced while exporting are left for the next export.
    size = selectors.sequenced_size()
    rows = Entry.objects.filter(seq__lt=size).order_by("seq").values_list("seq", "data", "leaf_hash")
    iterator = rows.iterator(chunk_size=5000)
    if progress:
        from tqdm import tqdm

        iterator = tqdm(iterator, total=size, unit=" entries", unit_scale=True)
    with (
        (directory / verify.ENTRIES_FILE).open("wb") as entries_file,
        (directory / verify.LEAF_HASHES_FILE).open("wb") as hashes_file,
    ):
        for _seq, data, leaf in iterator:
            # The canonical bytes themselves, one per line: JSON lines an auditor can read as is.
            entries_file.write(bytes(data) + b"\n")
            hashes_file.write(bytes(leaf))
    checkpoints = list(Checkpoint.objects.filter(size__lte=size).order_by("size").prefetch_related("anchors"))
    with (directory / verify.CHECKPOINTS_FILE).open("w") as handle:
        for checkpoint in checkpoints:
            record = {
                "size": checkpoint.size,
                "note": checkpoint.note,
                "anchor": selectors.anchor_dict(selectors.latest_anchor_of(checkpoint)),
            }
            handle.write(json.dumps(record, sort_keys=True) + "\n")
    (directory / verify.KEY_FILE).write_text(selectors.verifier_key() + "\n")
    return size, len(checkpoints)
