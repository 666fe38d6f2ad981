"""What django-scim2 leaves to the integrator, and nothing else: authentication and the ServiceProviderConfig."""
import types

from django.conf import settings
from django_scim.models import SCIMServiceProviderConfig


def bearer_middleware(get_response):
    """Marks the request's user as authenticated when it carries `Authorization: Bearer <the peer's token>`; the
    library's own SCIMAuthCheckMiddleware answers 401 otherwise."""
    expected = "Bearer " + settings.PEER_TOKEN

    def middleware(request):
        if request.headers.get("Authorization") == expected:
            request.user = types.SimpleNamespace(is_authenticated=True)
        return get_response(request)

    return middleware


class ServiceProviderConfig(SCIMServiceProviderConfig):
    """The library's reference config, which it asks integrators to override "to describe those authentication_schemes
    and features that are implemented by your app", with one change: filtering is declared supported, since the
    library's views answer `filter` (its reference config under-declares it)."""

    def to_dict(self):
        d = super().to_dict()
        d["filter"]["supported"] = True
        return d
