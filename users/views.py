from functools import wraps

from allauth.account.utils import perform_login
from allauth.core import ratelimit
from django import forms
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from . import activation, roles
from .backends import login_limit_key


class ActivationForm(forms.Form):
    username = forms.CharField(label=_("User name (on your letter)"), max_length=150)
    code = forms.CharField(label=_("Activation code (on your letter)"), max_length=20)
    password1 = forms.CharField(label=_("Choose a password"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    password2 = forms.CharField(label=_("The same password again"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def clean(self):
        data = super().clean()
        if data.get("password1") and data.get("password1") != data.get("password2"):
            self.add_error("password2", _("The two passwords are not the same."))
        return data


def activate(request):
    form = ActivationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        # Each try counts as a failed login for that name, under the same limits.
        if not ratelimit.consume(request, action="login_failed", key=login_limit_key(data["username"])):
            form.add_error(None, _("Too many tries. Wait a few minutes and try again."))
        else:
            try:
                user = activation.activate(username=data["username"], code=data["code"], password=data["password1"])
            except ValidationError as invalid:
                form.add_error(None, invalid)
            else:
                # Through allauth's login, so that its stages (the second factor) apply.
                return perform_login(request, user, email_verification="none")
    return render(request, "account/activate.html", {"form": form}, status=400 if form.errors else 200)


def admin_login(login_view):
    """The admin's login: through allauth's (its rate limits, its second factor), and
    open to whoever `roles.may_use_admin` lets in, the staff flag or not."""

    @wraps(login_view)
    def view(request, *args, **kwargs):
        if request.user.is_authenticated:
            if not roles.may_use_admin(request.user):
                raise PermissionDenied
            return login_view(request, *args, **kwargs)
        next_url = request.GET.get(REDIRECT_FIELD_NAME) or request.get_full_path()
        return redirect(f"{reverse('account_login')}?{urlencode({REDIRECT_FIELD_NAME: next_url})}")

    return view
