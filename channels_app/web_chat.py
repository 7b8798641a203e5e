"""Starting a web chat from the page or a site's widget: the site's key, and the identity a
site's server may vouch for."""

from __future__ import annotations

import hmac

from channels_app.models import ChatSite
from contactcenter.crm import web_chat as crm_web_chat
from contactcenter.crm.addresses import normalize_email
from contactcenter.crm.models import Interaction
from contactcenter.kernel.errors import Forbidden, InvalidInput, NotFound


def start_chat(
    *, name: str, email: str, site_key: str = "", identity_hash: str = ""
) -> Interaction:
    """A new chat. With the widget's ``site_key`` it records the site; with a valid
    ``identity_hash`` (the site's signature of the email) the visitor is that customer."""
    site = None
    if site_key:
        site = ChatSite.objects.filter(key=site_key, is_active=True).first()
        if site is None:
            raise NotFound("This chat widget is not set up.", field="site")
    verified = False
    if identity_hash:
        if site is None:
            raise InvalidInput("An identity signature needs the widget's site.", field="site")
        expected = site.identity_hash(normalize_email(email))
        if not hmac.compare_digest(expected, identity_hash.strip().lower()):
            raise Forbidden("The signed-in identity could not be verified.", field="identity_hash")
        verified = True
    return crm_web_chat.start_web_chat(
        name=name, email=email, site=f"web:{site.name}" if site else "", verified=verified
    )
