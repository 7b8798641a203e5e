"""The providers' wire formats: parsing and verifying what they send, calling their APIs.

Each module turns a provider's inbound request into ``contactcenter.crm.inbound.InboundMessage``
values and sends replies through the provider's API. Failures to send are either
``PermanentDeliveryError`` (the provider refused: retrying cannot help) or
``TransientDeliveryError`` (timeouts, 5xx, 429: try again later).
"""

from __future__ import annotations


class PermanentDeliveryError(Exception):
    pass


class TransientDeliveryError(Exception):
    pass
