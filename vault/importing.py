"""The import service: take an export file, refuse it or queue it, then store it all or nothing.

Flow: ``start_import`` (web request or command) checks the upload and refuses bad ones
before anything is stored; otherwise it creates an ``ImportJob`` holding the upload
sealed and queues ``vault.tasks.run_import``. ``run_import`` parses, seals and stores in
one transaction, and fails the job with a stable code and a position (never content)
when the file is bad. The sealed upload is cleared at the end either way.
"""

from __future__ import annotations

import logging
import traceback
import uuid
from collections.abc import Callable
from pathlib import Path, PurePath
from typing import IO, Any

import kombu.exceptions
from django.conf import settings
from django.db import connections, transaction
from django.utils import timezone

from vault.errors import ImportMalformed, ImportRefused, VaultError
from vault.importers import IMPORTERS, ParsedImport, detect_format, importer_for, normalised_head
from vault.importers.compressed import expand, expanded_chunks, is_compressed
from vault.importers.storage import StoreResult, store_parsed
from vault.keys import keys_for
from vault.models import ImportJob
from vault.services import announce_new_records

__all__ = ["import_file", "import_job_filename", "run_import", "start_import", "store_parsed"]

logger = logging.getLogger(__name__)
NAME_RECORD_TYPE = "import_job_name"
UPLOAD_CHUNK = 1024 * 1024
MAX_NAME_IN_MESSAGES = 100
ProgressCallback = Callable[[int, int], None]


# --- refusing before anything is stored ----------------------------------------------------


def _display_name(filename: str) -> str:
    name = PurePath(filename.replace("\\", "/")).name or "upload"
    return name[:MAX_NAME_IN_MESSAGES]


def _read_upload(upload: Any, max_bytes: int) -> bytes:
    """All bytes of the upload, refusing empty and oversize ones without reading past the limit."""
    size = getattr(upload, "size", None)
    if isinstance(size, int) and size > max_bytes:
        raise ImportRefused(f"it is larger than the {max_bytes:,}-byte limit.")
    if hasattr(upload, "seek"):
        upload.seek(0)
    if hasattr(upload, "chunks"):
        parts, total = [], 0
        for chunk in upload.chunks(UPLOAD_CHUNK):
            total += len(chunk)
            if total > max_bytes:
                raise ImportRefused(f"it is larger than the {max_bytes:,}-byte limit.")
            parts.append(chunk)
        data = b"".join(parts)
    else:
        data = upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ImportRefused(f"it is larger than the {max_bytes:,}-byte limit.")
    if not data or data.isspace():
        raise ImportRefused("the file is empty.")
    return data


def _expanded_head(data: bytes, filename: str) -> tuple[str, bytes]:
    """The inner name and first bytes of the (possibly compressed) upload, checking the whole expansion."""
    if not is_compressed(data):
        return filename, data[:65536]
    inner, chunks = expanded_chunks(data, filename)
    head = b""
    for chunk in chunks:  # run to the end: the bomb check needs the full expanded size
        if len(head) < 65536:
            head += chunk[: 65536 - len(head)]
    return inner, head


def _choose_format(filename: str, head: bytes, requested: str | None) -> str:
    if requested is not None and requested not in IMPORTERS:
        raise ImportRefused(f"{requested!r} is not an import format; use one of {', '.join(IMPORTERS)}.")
    if not normalised_head(head).strip():
        raise ImportRefused("the file is empty.")
    detected = detect_format(filename, head)
    if requested is not None:
        importer = importer_for(requested)
        if detected != requested:
            raise ImportRefused(f"it does not look like {importer.title}.")
        return requested
    if detected is None:
        raise ImportRefused(
            "its type is not one Eidetic imports (GPX, Google Takeout Records.json, "
            "X/Twitter tweets.js or like.js, Eidetic JSON)."
        )
    return detected


def start_import(*, person, upload: IO[bytes] | Any, filename: str, format: str | None = None) -> ImportJob:
    """Check an upload and queue its import. ImportRefused (naming the file) stores nothing.

    In local and test settings Celery runs eagerly, so the job has finished (or failed)
    by the time this returns, once the surrounding transaction has committed.
    """
    job = _create_job(person=person, upload=upload, filename=filename, requested=format)
    transaction.on_commit(lambda: _enqueue(job))
    return job


def _enqueue(job: ImportJob) -> None:
    from vault.tasks import run_import as run_import_task  # the task module imports this one

    try:
        run_import_task.delay(str(job.id))
    except kombu.exceptions.OperationalError:
        # The task queue (Redis) is unreachable: nobody would ever run this job, so it is
        # not kept (nor its sealed upload); the error becomes a 503 (config.outages).
        ImportJob.objects.filter(pk=job.pk).delete()
        raise
    # With eager Celery the job has already run: let the caller's object show it.
    job.refresh_from_db()


def _create_job(*, person, upload: Any, filename: str, requested: str | None) -> ImportJob:
    name = _display_name(filename)
    try:
        data = _read_upload(upload, settings.VAULT["IMPORT_MAX_BYTES"])
        inner_name, head = _expanded_head(data, name)
        chosen = _choose_format(inner_name, head, requested)
    except ImportRefused as refusal:
        raise ImportRefused(f"{name} was refused: {refusal.message}") from None
    keys = keys_for(person)
    job_id = uuid.uuid4()
    return ImportJob.objects.create(
        id=job_id,
        owner=person,
        format=chosen,
        sealed_upload=keys.seal_raw(ImportJob.RECORD_TYPE, job_id, data),
        sealed_name=keys.seal_raw(NAME_RECORD_TYPE, job_id, name.encode()),
        size_bytes=len(data),
    )


def import_job_filename(job: ImportJob) -> str:
    """The uploaded file's name, opened for its owner (it is sealed in the job row)."""
    if not job.sealed_name:
        return ""
    return keys_for(job.owner).unseal_raw(NAME_RECORD_TYPE, job.id, bytes(job.sealed_name)).decode()


# --- running a job ---------------------------------------------------------------------------


def _set_progress(job: ImportJob, **fields: Any) -> None:
    """A short update of its own, committed at once when no outer transaction is open.

    Why progress is never written inside the data transaction: SQLite allows one writer
    at a time, so a progress update from another connection would wait for the import's
    transaction to end. The slow work (parsing and sealing) therefore happens before that
    transaction, with progress committed per batch, and the transaction only inserts
    ready rows; on PostgreSQL the same order keeps the data transaction short.
    """
    for name, value in fields.items():
        setattr(job, name, value)
    ImportJob.objects.filter(pk=job.pk).update(**fields)


def _claim(job: ImportJob) -> bool:
    """PENDING -> RUNNING. A RUNNING job is claimed again: its worker died (acks_late redelivery)
    and, the data transaction being all-or-nothing, it left nothing behind."""
    claimed = ImportJob.objects.filter(
        pk=job.pk, status__in=[ImportJob.Status.PENDING, ImportJob.Status.RUNNING]
    ).update(status=ImportJob.Status.RUNNING)
    if claimed:
        job.status = ImportJob.Status.RUNNING
    return bool(claimed)


def run_import(job: ImportJob, *, on_progress: ProgressCallback | None = None) -> ImportJob:
    """Parse and store one job's file, all or nothing. A finished job is left as it is."""
    if not _claim(job):
        return job
    try:
        result = _parse_and_store(job, on_progress)
    except (ImportMalformed, ImportRefused) as fault:
        _finish(job, ImportJob.Status.FAILED, error_code=fault.code, error_detail=fault.message[:300])
    except VaultError as fault:
        _finish(job, ImportJob.Status.FAILED, error_code=fault.code, error_detail=fault.message[:300])
    except Exception as fault:
        # Log the stack but not the exception's message: it could quote file content.
        logger.error(
            "import job %s failed with %s:\n%s",
            job.id,
            type(fault).__name__,
            "".join(traceback.format_tb(fault.__traceback__)),
        )
        _finish(
            job,
            ImportJob.Status.FAILED,
            error_code="ImportFailed",
            error_detail="An unexpected error stopped the import; nothing was stored.",
        )
    else:
        _finish(job, ImportJob.Status.DONE, created_items=result.created, duplicate_items=result.duplicates)
        if result.created:
            announce_new_records(job.owner, since=result.earliest)
    return job


def _parse_and_store(job: ImportJob, on_progress: ProgressCallback | None) -> StoreResult:
    if not job.sealed_upload:
        # Only a job whose worker died mid-run gets here (acks_late redelivery); its data
        # transaction never committed, so nothing of it is stored.
        raise ImportRefused("The import was interrupted and nothing was stored; please upload the file again.")
    keys = keys_for(job.owner)
    data = keys.unseal_raw(ImportJob.RECORD_TYPE, job.id, bytes(job.sealed_upload))
    _inner_name, content = expand(data, "upload")
    importer = importer_for(job.format)
    parsed: ParsedImport = importer.parse(content)
    total = parsed.item_count
    # SQLite rewrites a whole row on UPDATE, so there every progress update would rewrite
    # the file's bytes too (50 updates of a 20 MB upload = 1 GB written): the sealed upload
    # goes now, and a worker that dies from here on leaves a job that asks for the file
    # again. PostgreSQL keeps an unchanged large value out of line and does not rewrite it:
    # the upload stays until the job finishes, so a job whose worker died is run again
    # from it (acks_late redelivery) and its records are stored exactly once.
    early_clear = {"sealed_upload": None} if connections["default"].vendor == "sqlite" else {}
    _set_progress(job, total_items=total, processed_items=0, **early_clear)
    del data, content

    def report(done: int) -> None:
        _set_progress(job, processed_items=done)
        if on_progress is not None:
            on_progress(done, total)

    return store_parsed(
        person=job.owner,
        parsed=parsed,
        source=importer.source,
        import_job_id=job.id,
        on_progress=report,
        progress_every=settings.VAULT.get("IMPORT_BATCH_SIZE", 2000),
    )


def _finish(job: ImportJob, status: str, **fields: Any) -> None:
    fields.update(status=status, finished_at=timezone.now(), sealed_upload=None)
    if status == ImportJob.Status.DONE:
        fields["processed_items"] = job.total_items
    _set_progress(job, **fields)


# --- from the command line -------------------------------------------------------------------


def import_file(*, person, path: str | Path, format: str | None = None, progress: bool = True) -> ImportJob:
    """Import one file in this process (no Celery), with a tqdm progress bar on stderr.

    Raises ImportRefused for a refused file; a file that fails while importing returns
    its FAILED job (the caller reports ``job.error_code``/``error_detail``).
    """
    path = Path(path)
    if not path.is_file():
        raise ImportRefused(f"{_display_name(str(path))} was refused: no such file.")
    with path.open("rb") as stream:
        job = _create_job(person=person, upload=stream, filename=path.name, requested=format)
    if not progress:
        return run_import(job)
    from tqdm import tqdm

    with tqdm(total=0, unit="items", desc=_display_name(path.name), leave=True) as bar:

        def advance(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        run_import(job, on_progress=advance)
        if job.status == ImportJob.Status.DONE:
            bar.total = job.total_items
            bar.update(job.total_items - bar.n)
    return job
