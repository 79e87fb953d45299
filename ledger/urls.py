from django.urls import path

from ledger import views

app_name = "ledger"
urlpatterns = [
    path("", views.index, name="index"),
    path("entries/", views.entry_list, name="entries"),
    path("entries/<int:seq>/", views.entry_detail, name="entry"),
    path("checkpoints/", views.checkpoint_list, name="checkpoints"),
    path("verify/", views.how_to_verify, name="verify"),
    path("receipts/<uuid:entry_id>.json", views.receipt, name="receipt"),
]
