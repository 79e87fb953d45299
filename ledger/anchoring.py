"""Anchoring checkpoints to an Ethereum chain: a small pluggable base class and two backends.

``LEDGER["ANCHOR"]`` names the backend. The anchored data is the checkpoint body
(origin, size, root) as the transaction's input data, so anyone can read it back from the
chain and compare it with the signed checkpoint. The backend classes need no Django
settings: the standalone verifier uses ``Web3HttpAnchor`` to read anchors.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class AnchorReceipt:
    chain_id: int
    tx_hash: str  # 0x-prefixed hex
    block_number: int


@dataclass(frozen=True)
class AnchorReading:
    chain_id: int
    block_number: int | None
    data: bytes


class ChainAnchor:
    """Base class for anchoring backends. Subclasses implement the two hooks below."""

    def publish(self, data: bytes) -> AnchorReceipt:
        """Write ``data`` to the chain in one transaction; return where it landed (after mining)."""
        raise NotImplementedError

    def read(self, tx_hash: str) -> AnchorReading:
        """Read back the input data and location of transaction ``tx_hash``; LookupError if unknown."""
        raise NotImplementedError


class Web3Anchor(ChainAnchor):
    """Shared web3 plumbing: reading a transaction back is the same on every provider."""

    def __init__(self, web3) -> None:
        self.web3 = web3

    def read(self, tx_hash: str) -> AnchorReading:
        from web3.exceptions import TransactionNotFound

        try:
            transaction_data = self.web3.eth.get_transaction(tx_hash)
        except (TransactionNotFound, ValueError) as error:
            raise LookupError(f"transaction {tx_hash} is not on chain {self.web3.eth.chain_id}") from error
        return AnchorReading(
            chain_id=self.web3.eth.chain_id,
            block_number=transaction_data.get("blockNumber"),
            data=bytes(transaction_data["input"]),
        )

    def _receipt(self, tx_hash) -> AnchorReceipt:
        receipt = self.web3.eth.wait_for_transaction_receipt(tx_hash, timeout=120)
        return AnchorReceipt(self.web3.eth.chain_id, self.web3.to_hex(tx_hash), receipt["blockNumber"])


_tester_lock = threading.Lock()


@functools.cache
def _tester_web3():
    # One in-process chain per process: anchors stay readable for the process's lifetime.
    from web3 import EthereumTesterProvider, Web3

    return Web3(EthereumTesterProvider())


class EthereumTesterAnchor(Web3Anchor):
    """The embedded default: web3's in-process EthereumTesterProvider (nothing leaves the process).

    Its chain lives in memory, one per process. With ``journal`` (the local site sets one
    under its data directory) the data of every anchor published is also appended to that
    file, and a process replays the lines its chain has not seen before it publishes or
    reads. eth-tester's accounts, nonces and fees are deterministic, so a replayed anchor
    gets the same transaction hash and block as the original: what ``manage.py demo``
    anchored verifies in the web server and after a restart.
    """

    def __init__(self, web3=None, journal: str | Path | None = None) -> None:
        super().__init__(web3 or _tester_web3())
        self.journal = Path(journal) if journal else None

    def publish(self, data: bytes) -> AnchorReceipt:
        with _tester_lock, self._journal_locked():  # eth-tester is not thread-safe
            self._catch_up()
            receipt = self._send(data)
            if self.journal is not None:
                with self.journal.open("a") as journal:
                    journal.write(data.hex() + "\n")
                self.web3.eidetic_replayed = getattr(self.web3, "eidetic_replayed", 0) + 1
            return receipt

    def read(self, tx_hash: str) -> AnchorReading:
        with _tester_lock, self._journal_locked():
            self._catch_up()
            return super().read(tx_hash)

    def _send(self, data: bytes) -> AnchorReceipt:
        account = self.web3.eth.accounts[0]
        return self._receipt(self.web3.eth.send_transaction({"from": account, "to": account, "value": 0, "data": data}))

    @contextlib.contextmanager
    def _journal_locked(self):
        """Other processes (the demo command, the web server, a worker) append too."""
        if self.journal is None:
            yield
            return
        self.journal.parent.mkdir(parents=True, exist_ok=True)
        with open(f"{self.journal}.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _catch_up(self) -> None:
        if self.journal is None or not self.journal.exists():
            return
        lines = self.journal.read_text().split()
        for line in lines[getattr(self.web3, "eidetic_replayed", 0) :]:
            self._send(bytes.fromhex(line))
        self.web3.eidetic_replayed = len(lines)


class Web3HttpAnchor(Web3Anchor):
    """Production: an Ethereum JSON-RPC endpoint; transactions signed locally with a private key."""

    def __init__(self, rpc_url: str, private_key: str | None = None) -> None:
        from web3 import Web3

        super().__init__(Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": 30})))
        self.private_key = private_key

    def publish(self, data: bytes) -> AnchorReceipt:
        if not self.private_key:
            raise RuntimeError("LEDGER_ETH_PRIVATE_KEY is needed to publish anchors")
        account = self.web3.eth.account.from_key(self.private_key)
        transaction_fields = {
            "from": account.address,
            "to": account.address,
            "value": 0,
            "data": data,
            "nonce": self.web3.eth.get_transaction_count(account.address, "pending"),
            "chainId": self.web3.eth.chain_id,
        }
        transaction_fields["gas"] = self.web3.eth.estimate_gas(transaction_fields)
        transaction_fields["maxPriorityFeePerGas"] = self.web3.eth.max_priority_fee
        transaction_fields["maxFeePerGas"] = self.web3.eth.gas_price * 2 + transaction_fields["maxPriorityFeePerGas"]
        signed = account.sign_transaction(transaction_fields)
        return self._receipt(self.web3.eth.send_raw_transaction(signed.raw_transaction))


def get_anchor() -> ChainAnchor:
    from django.conf import settings
    from django.utils.module_loading import import_string

    config = settings.LEDGER
    backend = import_string(config["ANCHOR"])
    if issubclass(backend, Web3HttpAnchor):
        return backend(config["ETH_RPC_URL"], config.get("ETH_PRIVATE_KEY"))
    if issubclass(backend, EthereumTesterAnchor):
        return backend(journal=config.get("TESTER_CHAIN_JOURNAL"))
    return backend()


def check_reading(reading: AnchorReading, *, data: bytes, chain_id: int, block_number: int | None) -> list[str]:
    """What is wrong with an anchor as read from the chain (empty list: it holds)."""
    problems = []
    if reading.chain_id != chain_id:
        problems.append(f"chain id is {reading.chain_id}, the anchor claims {chain_id}")
    if reading.data != data:
        problems.append("the transaction's data is not this checkpoint (origin, size, root)")
    if block_number is not None and reading.block_number != block_number:
        problems.append(f"transaction is in block {reading.block_number}, the anchor claims {block_number}")
    return problems


# --- services over the models (Django side) --------------------------------------------------


def anchor_checkpoint(checkpoint_id: uuid.UUID):
    """Anchor one checkpoint (idempotent: an anchored checkpoint keeps its first anchor)."""
    from django.db import transaction

    from ledger.models import Anchor, Checkpoint

    checkpoint = Checkpoint.objects.get(id=checkpoint_id)
    existing = checkpoint.anchors.first()
    if existing is not None:
        return existing
    backend = get_anchor()
    receipt = backend.publish(checkpoint.body().encode())
    with transaction.atomic():
        return Anchor.objects.create(
            checkpoint=checkpoint,
            backend=f"{type(backend).__module__}.{type(backend).__qualname__}",
            chain_id=receipt.chain_id,
            tx_hash=receipt.tx_hash,
            block_number=receipt.block_number,
        )


def verify_anchor(anchor, backend: ChainAnchor | None = None) -> list[str]:
    """Problems with a stored anchor, checked against the chain (empty list: it holds)."""
    backend = backend or get_anchor()
    try:
        reading = backend.read(anchor.tx_hash)
    except LookupError as error:
        return [str(error)]
    return check_reading(
        reading,
        data=anchor.checkpoint.body().encode(),
        chain_id=anchor.chain_id,
        block_number=anchor.block_number,
    )
