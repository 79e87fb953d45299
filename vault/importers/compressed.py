"""Opening .gz and .zip uploads without letting a compression bomb through.

Expansion is streamed in chunks and stops as soon as it passes the smaller of
``VAULT["IMPORT_MAX_EXPANDED_BYTES"]`` and ``MAX_RATIO`` times the compressed size
(real exports compress 5-30x; bombs 1,000x and more). Declared sizes in zip headers
are not trusted: the bytes actually produced are counted.
"""

from __future__ import annotations

import gzip
import io
import zipfile
import zlib
from collections.abc import Iterator

from django.conf import settings

from vault.errors import ImportRefused

GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"
CHUNK = 1024 * 1024
MAX_RATIO = 200
# Below this a high ratio is harmless (a tiny file of repeated lines compresses well).
RATIO_FLOOR_BYTES = 1024 * 1024


def is_compressed(data: bytes) -> bool:
    return data.startswith((GZIP_MAGIC, ZIP_MAGIC))


def expansion_limit(compressed_size: int) -> int:
    limit = settings.VAULT["IMPORT_MAX_EXPANDED_BYTES"]
    return min(limit, max(RATIO_FLOOR_BYTES, MAX_RATIO * compressed_size))


def expanded_chunks(data: bytes, filename: str) -> tuple[str, Iterator[bytes]]:
    """The inner file name and its bytes in chunks; the iterator raises ImportRefused on a bomb."""
    if data.startswith(GZIP_MAGIC):
        inner = filename[:-3] if filename.lower().endswith(".gz") else filename
        return inner, _bounded(_gzip_chunks(data), len(data))
    if data.startswith(ZIP_MAGIC):
        archive, member = _single_member(data)
        return member.filename.rsplit("/", 1)[-1], _bounded(_zip_chunks(archive, member), len(data))
    return filename, iter((data,))


def expand(data: bytes, filename: str) -> tuple[str, bytes]:
    inner, chunks = expanded_chunks(data, filename)
    return inner, b"".join(chunks)


def _bounded(chunks: Iterator[bytes], compressed_size: int) -> Iterator[bytes]:
    limit, total = expansion_limit(compressed_size), 0
    for chunk in chunks:
        total += len(chunk)
        if total > limit:
            raise ImportRefused(
                f"it expands to more than {limit:,} bytes (a compression bomb, or simply too big to import)."
            )
        yield chunk
    if total == 0:
        raise ImportRefused("the compressed file holds an empty file.")


def _gzip_chunks(data: bytes) -> Iterator[bytes]:
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
            first = True
            while chunk := stream.read(CHUNK):
                if first and chunk.startswith((GZIP_MAGIC, ZIP_MAGIC)):
                    raise ImportRefused("it is compressed twice; upload it compressed once at most.")
                first = False
                yield chunk
    except (OSError, EOFError, zlib.error):
        raise ImportRefused("it is not a readable gzip file (truncated or damaged).") from None


def _single_member(data: bytes) -> tuple[zipfile.ZipFile, zipfile.ZipInfo]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [
            info for info in archive.infolist() if not info.is_dir() and not info.filename.startswith("__MACOSX/")
        ]
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError):
        raise ImportRefused("it is not a readable zip archive.") from None
    if len(members) != 1:
        raise ImportRefused("a .zip upload must hold exactly one file; upload the files one by one.")
    if members[0].flag_bits & 0x1:
        raise ImportRefused("the zip archive is encrypted.")
    return archive, members[0]


def _zip_chunks(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> Iterator[bytes]:
    try:
        with archive.open(member) as stream:
            first = True
            while chunk := stream.read(CHUNK):
                if first and chunk.startswith((GZIP_MAGIC, ZIP_MAGIC)):
                    raise ImportRefused("it is compressed twice; upload it compressed once at most.")
                first = False
                yield chunk
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error, NotImplementedError, RuntimeError, ValueError):
        raise ImportRefused("it is not a readable zip archive (truncated or damaged).") from None
