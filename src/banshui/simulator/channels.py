"""Secure channels (安全通道): opening one, and reading and answering through it.

A request is taken only from a known channel, correctly signed, inside the time
window and not seen before; only then is its datagram opened.
"""

import secrets
from typing import Any

from pydantic import BaseModel, Field

from banshui.simulator import envelope, errors
from banshui.simulator.bureau import Bureau
from banshui.simulator.clock import wall_now
from banshui.simulator.state import Channel

# Checked against real time, not the bureau's clock: that one may be pinned to a
# business morning, while the window guards the wire between two machines.
WINDOW_MS = 300_000
# The newest channels are kept; a client whose channel was forgotten opens another.
MAX_CHANNELS = 10_000


class Envelope(BaseModel):
    """What every request of the login API after the key exchange carries."""

    channel: str = Field(max_length=64)
    datagram: str = Field(max_length=65_536)
    timestamp: int
    signature: str = Field(max_length=128)


def open_channel(bureau: Bureau, session_key_hex: str) -> Channel:
    sm4_key, mac_key = bureau.keys.open_session_key(session_key_hex)
    channel = Channel(secrets.token_hex(16), sm4_key, mac_key)

    kept = bureau.state.channels
    kept[channel.channel_id] = channel
    while len(kept) > MAX_CHANNELS:
        del kept[next(iter(kept))]

    return channel


def read(bureau: Bureau, sealed: Envelope, path: str) -> tuple[Channel, dict[str, Any]]:
    """The channel and the request's JSON, or the refusal that names what is wrong."""
    channel = bureau.state.channels.get(sealed.channel)
    if channel is None:
        raise errors.unknown_channel()

    expected = envelope.signature(
        channel.mac_key,
        "request",
        channel.channel_id,
        sealed.timestamp,
        path,
        sealed.datagram,
    )
    if not envelope.signature_matches(expected, sealed.signature):
        raise errors.bad_signature()

    now_ms = _now_ms()
    if abs(now_ms - sealed.timestamp) > WINDOW_MS:
        raise errors.stale_request()

    _remember(channel, sealed.signature, now_ms)
    return channel, envelope.open_datagram(channel.sm4_key, sealed.datagram)


def _remember(channel: Channel, signature: str, now_ms: int) -> None:
    """Refuse a signature seen before; forget those the window no longer admits."""
    if signature in channel.seen:
        raise errors.replayed_request()

    # Kept in the order taken, so the oldest are at the front.
    seen = channel.seen
    while seen and now_ms - next(iter(seen.values())) > 2 * WINDOW_MS:
        del seen[next(iter(seen))]

    channel.seen[signature] = now_ms


def answer(channel: Channel, path: str, data: dict[str, Any]) -> dict[str, Any]:
    """A success answer, its data sealed as the requests are."""
    timestamp = _now_ms()
    datagram = envelope.seal_datagram(channel.sm4_key, data)
    signed = envelope.signature(
        channel.mac_key, "answer", channel.channel_id, timestamp, path, datagram
    )
    return {
        "code": 1000,
        "channel": channel.channel_id,
        "datagram": datagram,
        "timestamp": timestamp,
        "signature": signed,
    }


def _now_ms() -> int:
    return int(wall_now().timestamp() * 1000)
