"""Twilio's request signature (``X-Twilio-Signature``).

It is base64(HMAC(auth token, URL + every parameter sorted by name, each as name
then value)), HMAC-SHA1 unless ``X-Twilio-Webhooks-Signature-Settings`` names
HMAC-SHA256. The URL is the one Twilio was told to call, so banshui checks the
source's public URL, not what a proxy made of it; Twilio has signed it both with
and without the default port, so both are accepted. There is no timestamp: a
replay cannot be told from a retry, and is harmless because each MessageSid is
stored once.
"""

from __future__ import annotations

import base64
import hmac
from urllib.parse import urlsplit

from banshui.sms.gateways.base import SignatureRefused

SIGNATURE_HEADER = "x-twilio-signature"
SETTINGS_HEADER = "x-twilio-webhooks-signature-settings"

# The digest each algorithm name stands for.
_ALGORITHMS = {"HMAC_SHA1": "sha1", "HMAC_SHA256": "sha256"}
_DEFAULT_PORTS = {"http": 80, "https": 443}
_MAX_SIGNATURE = 200


def expected_signature(
    secret: str, url: str, params: list[tuple[str, str]], algorithm: str = "HMAC_SHA1"
) -> str:
    # Twilio signs a repeated identical pair once.
    signed = url + "".join(name + value for name, value in sorted(set(params)))
    digest = hmac.new(secret.encode(), signed.encode(), _ALGORITHMS[algorithm])
    return base64.b64encode(digest.digest()).decode("ascii")


def check(
    headers: dict[str, str], url: str, params: list[tuple[str, str]], secret: str
) -> None:
    """Raise SignatureRefused unless the signature holds for the URL and params."""
    if not secret:
        raise SignatureRefused("the source has no secret")

    given = headers.get(SIGNATURE_HEADER, "")
    if not given or len(given) > _MAX_SIGNATURE:
        raise SignatureRefused("no X-Twilio-Signature")

    algorithm = _algorithm(headers.get(SETTINGS_HEADER, ""))
    # Every candidate is compared, so the time taken does not say which matched.
    matches = [
        hmac.compare_digest(
            given.encode(), expected_signature(secret, u, params, algorithm).encode()
        )
        for u in _urls(url)
    ]
    if not any(matches):
        raise SignatureRefused("the signature does not match")


def _algorithm(settings: str) -> str:
    """The algorithm the settings header names (``key=…,algorithm=…``)."""
    for part in settings.split(","):
        name, _, value = part.partition("=")
        if name.strip() == "algorithm" and value.strip():
            algorithm = value.strip().upper()
            if algorithm not in _ALGORITHMS:
                raise SignatureRefused("an unknown signature algorithm")
            return algorithm
    return "HMAC_SHA1"


def _urls(url: str) -> list[str]:
    """The URL as given, without its default port, and with it."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return [url]

    default = _DEFAULT_PORTS.get(parts.scheme)
    if default is None or (port is not None and port != default):
        return [url]
    if port is None:
        with_port = parts._replace(netloc=f"{parts.netloc}:{default}")
        return [url, with_port.geturl()]
    without_port = parts._replace(netloc=parts.netloc.rsplit(":", 1)[0])
    return [url, without_port.geturl()]
