from allauth.account.forms import LoginForm as AllauthLoginForm
from django.utils.translation import gettext_lazy as _


class LoginForm(AllauthLoginForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["login"].label = _("E-mail, phone or card number")
        self.fields["login"].widget.attrs.update(
            {"placeholder": _("E-mail, phone or card number"), "autocomplete": "username", "inputmode": "text"}
        )
