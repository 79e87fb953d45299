"""Concurrent writers give a dense, linear chain; a writer killed mid-transaction leaves nothing."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading

import pytest
from django.db import connections, transaction

from ledger import selectors, services
from ledger.models import Entry, PendingEntry

WRITERS = 6
PER_WRITER = 25


def _write(writer: int, count: int) -> None:
    try:
        for position in range(count):
            with transaction.atomic():
                services.append(
                    kind="data.accessed", actor=f"partner:{writer}", subject="s", body={"writer": writer, "n": position}
                )
    finally:
        connections.close_all()


def _assert_dense_linear_chain(expected: int) -> None:
    services.sequence_pending()  # whatever the writers' own on-commit runs left behind
    assert not PendingEntry.objects.exists()
    assert list(Entry.objects.order_by("seq").values_list("seq", flat=True)) == list(range(expected))
    report = selectors.verify_database(check_anchors=False)
    assert report.ok, report.summary()
    written = {(entry.actor, entry.seq) for entry in Entry.objects.all()}
    for writer in range(WRITERS):  # every writer's entries all made it
        assert sum(1 for actor, _ in written if actor == f"partner:{writer}") == PER_WRITER


@pytest.mark.django_db(transaction=True)
def test_threads_give_a_dense_linear_chain():
    threads = [threading.Thread(target=_write, args=(writer, PER_WRITER)) for writer in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    _assert_dense_linear_chain(WRITERS * PER_WRITER)


def _process_writer(writer: int) -> None:
    connections.close_all()  # never share the parent's sockets
    _write(writer, PER_WRITER)
    os._exit(0)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_processes_give_a_dense_linear_chain():
    connections.close_all()
    context = multiprocessing.get_context("fork")
    processes = [context.Process(target=_process_writer, args=(writer,)) for writer in range(WRITERS)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
    assert [process.exitcode for process in processes] == [0] * WRITERS
    _assert_dense_linear_chain(WRITERS * PER_WRITER)


def _half_writer(ready) -> None:
    connections.close_all()
    with transaction.atomic():
        services.append(kind="consent.granted", actor="partner:killed", subject="s", body={"half": True})
        services.append(kind="consent.granted", actor="partner:killed", subject="s", body={"half": True})
        ready.set()
        signal.pause()  # killed here, inside the transaction


@pytest.mark.django_db(transaction=True)
def test_a_writer_killed_mid_transaction_leaves_no_half_entry():
    for position in range(3):
        with transaction.atomic():
            services.append(kind="data.accessed", actor="partner:ok", subject="s", body={"n": position})
    connections.close_all()
    context = multiprocessing.get_context("fork")
    ready = context.Event()
    process = context.Process(target=_half_writer, args=(ready,))
    process.start()
    assert ready.wait(timeout=60)
    os.kill(process.pid, signal.SIGKILL)
    process.join(timeout=30)
    assert process.exitcode == -signal.SIGKILL
    with transaction.atomic():  # the next writer is not blocked by the dead one
        services.append(kind="data.accessed", actor="partner:ok", subject="s", body={"n": 3})
    services.sequence_pending()
    assert not Entry.objects.filter(actor="partner:killed").exists()
    assert not PendingEntry.objects.exists()
    assert list(Entry.objects.values_list("seq", flat=True)) == [0, 1, 2, 3]
    assert selectors.verify_database(check_anchors=False).ok
