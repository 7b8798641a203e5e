from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

SUPERVISE_PERMISSION = "routing.supervise"


def is_supervisor(user: AbstractBaseUser | AnonymousUser) -> bool:
    return bool(user.is_authenticated and user.has_perm(SUPERVISE_PERMISSION))
