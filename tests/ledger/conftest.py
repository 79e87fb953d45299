from __future__ import annotations

import pytest

from ledger import services


@pytest.fixture
def append_many(db):
    """Append ``count`` entries and sequence them; return their ids in order."""

    def _append_many(count: int, *, kind: str = "data.accessed", subject: str = "person:p1") -> list:
        ids = [
            services.append(kind=kind, actor="partner:acme", subject=subject, body={"n": position, "count": 3})
            for position in range(count)
        ]
        services.sequence_pending()
        return ids

    return _append_many
