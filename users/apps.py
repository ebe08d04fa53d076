from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _sync_groups(sender, using="default", **kwargs):
    from . import roles

    roles.sync_groups(using=using)


class UsersConfig(AppConfig):
    name = "users"
    verbose_name = _("Users")

    def ready(self):
        from . import signals  # noqa: F401  (the second factor set up counts for the session)

        # A fresh database gets the groups with their permissions; a changed list applies at the next migrate.
        post_migrate.connect(_sync_groups, sender=self, dispatch_uid="users.sync_groups")
