from __future__ import annotations

from django.contrib.auth import login
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts.forms import SignupForm
from accounts.services import register_person


@require_http_methods(["GET", "POST"])
def signup(request):
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        person = register_person(username=form.cleaned_data["username"], password=form.cleaned_data["password1"])
        login(request, person, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("vault:dashboard")
    return render(request, "accounts/signup.html", {"form": form})
