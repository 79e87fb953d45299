"""The vault's records. Personal content lives only inside ``sealed``; see README "What is in clear".

Every sealed record has a UUID primary key generated in Python before it is sealed, so
the associated data can bind the ciphertext to that exact row.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any, ClassVar

from django.conf import settings
from django.db import models

from config.jobs import BackgroundJob

if TYPE_CHECKING:
    from vault.keys import PersonKeys


class VaultKey(models.Model):
    """A person's data key (DEK), wrapped by a master key. Lives in the ``keys`` database.

    Deleting this row is the crypto-shredding step of erasure: without it nothing sealed
    for the person opens, in the database or in any backup of it.
    """

    owner_uid = models.UUIDField(unique=True)
    wrapped_dek = models.BinaryField()
    kek_id = models.CharField(max_length=16, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    rotated_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"data key of {self.owner_uid} under {self.kek_id}"


class SealedRecord(models.Model):
    RECORD_TYPE: ClassVar[str]

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    sealed = models.BinaryField()
    # Keyed hash (per-person key) of the record's identifying content: duplicates are
    # found without revealing content, and it means nothing once the key is shredded.
    fingerprint = models.CharField(max_length=64)
    source = models.CharField(max_length=60)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
        constraints = [
            models.UniqueConstraint(fields=["owner", "fingerprint"], name="%(class)s_unique_fingerprint"),
        ]

    def open(self, keys: PersonKeys) -> dict[str, Any]:
        return keys.unseal(self.RECORD_TYPE, self.id, self.sealed)


class ImportJob(BackgroundJob):
    """One uploaded file on its way into the vault: the worker parses it, counts what it
    stored and what was already there, and the upload page follows its progress."""

    class Format(models.TextChoices):
        GPX = "gpx", "GPX 1.1 track (Garmin, Strava)"
        TAKEOUT = "takeout", "Google Takeout location history (Records.json)"
        TWITTER_TWEETS = "twitter_tweets", "X/Twitter archive: tweets.js"
        TWITTER_LIKES = "twitter_likes", "X/Twitter archive: like.js"
        EIDETIC = "eidetic", "Eidetic JSON (moments and social items)"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting"
        RUNNING = "running", "Importing"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    format = models.CharField(max_length=20, choices=Format.choices)
    # The uploaded file (and its name) sealed while it waits for the worker; cleared after.
    sealed_upload = models.BinaryField(null=True, blank=True)
    sealed_name = models.BinaryField(null=True, blank=True)
    size_bytes = models.PositiveBigIntegerField(default=0)
    created_items = models.PositiveIntegerField(default=0)
    duplicate_items = models.PositiveIntegerField(default=0)

    RECORD_TYPE = "import_job"


class Track(SealedRecord):
    """A recorded track: sealed name, device and activity type; times and count in clear."""

    RECORD_TYPE = "track"
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField()
    point_count = models.PositiveIntegerField(default=0)
    import_job = models.ForeignKey(ImportJob, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta(SealedRecord.Meta):
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["owner", "started_at"])]


class Trackpoint(SealedRecord):
    """One fix: sealed ``{"lat", "lon", "ele", "hr", "dev"}``; the time is in clear for range queries."""

    RECORD_TYPE = "trackpoint"
    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="points")
    recorded_at = models.DateTimeField()

    class Meta(SealedRecord.Meta):
        ordering = ["recorded_at"]
        # Pages are read in (recorded_at, id) order: with id in the index a page is a
        # range scan from the cursor whatever the planner's statistics say.
        indexes = [models.Index(fields=["owner", "recorded_at", "id"])]


class Moment(SealedRecord):
    """Sealed ``{"kind", "label", "tags", "sentiment", "place", "hr"}``.

    kind: place/person/object/product/activity; sentiment: loves/likes/neutral/dislikes/loathes;
    place: null or ``{"name", "lat", "lon"}``; hr: beats per minute or null.
    """

    RECORD_TYPE = "moment"
    KINDS = ("place", "person", "object", "product", "activity")
    SENTIMENTS = ("loves", "likes", "neutral", "dislikes", "loathes")
    occurred_at = models.DateTimeField()

    class Meta(SealedRecord.Meta):
        ordering = ["-occurred_at"]
        # Pages are read in (occurred_at, id) order; see Trackpoint.
        indexes = [models.Index(fields=["owner", "occurred_at", "id"])]


class SocialItem(SealedRecord):
    """Sealed ``{"text", "url", "handle", "topic"}`` (what applies to the kind).

    The kind and network stay clear: they are the record type and its source, which
    the broker's scopes (social.interests vs social.posts) must query by.
    """

    RECORD_TYPE = "social_item"

    class Kind(models.TextChoices):
        INTEREST = "interest", "Interest"
        POST = "post", "Post"
        LIKE = "like", "Like"
        CONNECTION = "connection", "Connection"

    kind = models.CharField(max_length=12, choices=Kind.choices)
    network = models.CharField(max_length=30)
    occurred_at = models.DateTimeField()

    class Meta(SealedRecord.Meta):
        ordering = ["-occurred_at"]
        indexes = [models.Index(fields=["owner", "kind", "occurred_at"])]


class PrivacyZone(SealedRecord):
    """Sealed ``{"label", "lat", "lon", "radius_m"}``: points inside are never shared."""

    RECORD_TYPE = "privacy_zone"

    class Meta(SealedRecord.Meta):
        ordering = ["created_at"]


class ExportJob(BackgroundJob):
    """Her export, built by a worker. The finished document is sealed under her own key
    (it is all her data, opened) and only unsealed as she downloads it; erasure deletes it."""

    RECORD_TYPE = "export_job"
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    sealed_document = models.BinaryField(null=True, blank=True)
    size_bytes = models.PositiveBigIntegerField(default=0)

    class Meta(BackgroundJob.Meta):
        constraints = [
            # At most one unfinished export per person: starting twice returns the same job.
            models.UniqueConstraint(
                fields=["owner"], condition=models.Q(status__in=["pending", "running"]), name="one_unfinished_export"
            ),
        ]


class KeyRotation(BackgroundJob):
    """A master key (KEK) rotation started from the operations page: re-wraps every data key.

    ``kek_id`` is fixed before the first re-wrap, so a worker that restarts the job carries
    on under the same master key instead of making another one."""

    generate_new_key = models.BooleanField(default=True)
    kek_id = models.CharField(max_length=16, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
