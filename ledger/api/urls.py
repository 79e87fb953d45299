from django.urls import path

from ledger.api import views

urlpatterns = [
    path("checkpoint", views.LatestCheckpointView.as_view(), name="ledger-api-checkpoint"),
    path("checkpoints/<int:size>", views.CheckpointView.as_view(), name="ledger-api-checkpoint-size"),
    path("entries", views.EntriesView.as_view(), name="ledger-api-entries"),
    path("proof/inclusion", views.InclusionProofView.as_view(), name="ledger-api-inclusion"),
    path("proof/consistency", views.ConsistencyProofView.as_view(), name="ledger-api-consistency"),
    path("key", views.KeyView.as_view(), name="ledger-api-key"),
]
