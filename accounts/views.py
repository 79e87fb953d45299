from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts import login_throttle
from accounts.forms import DeleteAccountForm, SignupForm
from accounts.models import User
from accounts.services import erase_account, register_person


class LoginView(auth_views.LoginView):
    """Django's login, slowed for guessers: see ``accounts.login_throttle``."""

    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        wait = login_throttle.retry_after(request)
        if wait is not None:
            return self._refuse(wait)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form) -> HttpResponse:
        login_throttle.count_failure(self.request)
        return super().form_invalid(form)

    def _refuse(self, wait: int) -> HttpResponse:
        # The password is not even checked: a right guess during the wait teaches nothing.
        form = self.get_form_class()(self.request, initial={"username": self.request.POST.get("username", "")})
        form.cleaned_data = {}  # add_error() expects it; an unbound form was never cleaned
        minutes = max(1, -(-wait // 60))
        form.add_error(None, f"Too many failed logins. Try again in {minutes} minute{'s' if minutes > 1 else ''}.")
        response = self.render_to_response(self.get_context_data(form=form), status=429)
        response["Retry-After"] = str(wait)
        return response


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("vault:home")
    form = SignupForm(request.POST) if request.method == "POST" else SignupForm()
    if request.method == "POST" and form.is_valid():
        person = register_person(username=form.cleaned_data["username"], password=form.cleaned_data["password1"])
        login(request, person, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, "Welcome to Eidetic. Your vault is ready and sealed with your own key.")
        return redirect("vault:dashboard")
    return render(request, "accounts/signup.html", {"form": form}, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@login_required
def delete_account(request: HttpRequest) -> HttpResponse:
    form = DeleteAccountForm(request.POST if request.method == "POST" else None, person=request.user)
    if request.method == "POST" and form.is_valid():
        # The service locks the account row through its class: pass the real User, not the lazy proxy.
        erase_account(User.objects.get(pk=request.user.pk))
        logout(request)
        messages.success(request, "Your account is deleted. Your data key was destroyed first, so nothing opens.")
        return redirect("vault:home")
    return render(request, "accounts/delete.html", {"form": form}, status=400 if form.errors else 200)
