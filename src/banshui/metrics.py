"""Prometheus counters: routine success is counted, not logged."""

from __future__ import annotations

from typing import Literal

from prometheus_client import Counter

SMS_RECEIVED = Counter(
    "banshui_sms_received_total", "SMS stored from a gateway", ["source"]
)
SIGNATURE_FAILURES = Counter(
    "banshui_signature_failures_total",
    "Webhook requests refused for their signature",
    ["source"],
)
LOGINS_FINISHED = Counter(
    "banshui_logins_finished_total", "Login requests that ended", ["status"]
)
SMS_REQUESTED = Counter(
    "banshui_sms_requested_total", "Verification codes banshui asked the bureau for"
)
CODES_EXTRACTED = Counter(
    "banshui_codes_extracted_total", "SMS stored with a code in them", ["kind"]
)
FORWARDS_SENT = Counter(
    "banshui_forwards_sent_total", "SMS forwarded to a bound real phone", ["channel"]
)
FORWARDS_FAILED = Counter(
    "banshui_forwards_failed_total",
    "Forwards that gave up after their retries",
    ["channel"],
)
REFUSALS = Counter(
    "banshui_refusals_total",
    "Requests refused for their credentials (chat token, sender, provider key, PIN)",
    ["face"],
)
WEBHOOKS_DELIVERED = Counter(
    "banshui_webhooks_delivered_total",
    "Events a tenant's webhook acknowledged",
    ["kind"],
)
WEBHOOKS_FAILED = Counter(
    "banshui_webhooks_failed_total",
    "Webhook deliveries that gave up after their retries",
    ["kind"],
)

# Where a refused request came in: a webhook's gateway format, or another door.
Gateway = Literal[
    "smsforwarder",
    "android-gateway",
    "twilio",
    "generic",
    "provider",
    "chat",
    "api",
    "query",
    "console",
]
# Why it was refused; a closed list, so the series stay few whatever is sent.
Reason = Literal[
    "bad_signature",
    "stale",
    "replay",
    "unknown_source",
    "bad_key",
    "bad_token",
    "sender_not_allowed",
    "wrong_pin",
    "wrong_password",
    "rate_limited",
]

REFUSED = Counter(
    "banshui_refused_total",
    "Requests refused for who sent them, by the way they came in and why",
    ["gateway", "reason"],
)


def count_refusal(gateway: Gateway, reason: Reason) -> None:
    REFUSED.labels(gateway=gateway, reason=reason).inc()
