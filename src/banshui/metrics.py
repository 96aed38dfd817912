"""Prometheus counters: routine success is counted, not logged."""

from __future__ import annotations

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
