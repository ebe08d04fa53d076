from allauth.core import ratelimit
from django import forms
from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _

from . import activation


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
        if not ratelimit.consume(request, action="login_failed", key=data["username"].lower()):
            form.add_error(None, _("Too many tries. Wait a few minutes and try again."))
        else:
            try:
                user = activation.activate(username=data["username"], code=data["code"], password=data["password1"])
            except ValidationError as invalid:
                form.add_error(None, invalid)
            else:
                login(request, user, backend="users.backends.IdentifierBackend")
                return redirect("members:portal")
    return render(request, "account/activate.html", {"form": form}, status=400 if form.errors else 200)
