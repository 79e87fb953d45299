from django.urls import path

from ledger import views

app_name = "ledger"
urlpatterns = [
    path("", views.index, name="index"),
    path("entries/", views.entry_list, name="entries"),
    path("entries/<int:seq>/", views.entry_detail, name="entry"),
    path("checkpoints/", views.checkpoint_list, name="checkpoints"),
    path("verify/", views.how_to_verify, name="verify"),
    path("verifications/", views.verification_list, name="verifications"),
    path("verifications/<uuid:run_id>/", views.verification_detail, name="verification"),
    path("verifications/<uuid:run_id>/status", views.verification_status, name="verification_status"),
    path("receipts/<uuid:entry_id>.json", views.receipt, name="receipt"),
]
