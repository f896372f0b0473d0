"""Send an HL7 v2 message over MLLP and wait for its acknowledgement.

Framing (HL7 MLLP, release 2): a start block 0x0B, the message (segments ended by CR), an end
block 0x1C 0x0D. One connection per message: connect, send the frame, read one framed answer (at
most ``MAX_ACK_BYTES``) within the timeout, close. The answer's MSA-1 decides: AA (or CA) delivered;
AE, AR, CE, CR rejected (the receiver judged this message; sending it again gets the same answer);
no answer, a broken frame or an ACK of another message id: another attempt may succeed.
"""

from __future__ import annotations

import asyncio

from stream_processor.export.delivery import DeliveryRejected, TransientDeliveryError

__all__ = ["START_BLOCK", "END_BLOCK", "frame", "read_frame", "ack_code", "MllpClient", "MAX_ACK_BYTES"]

START_BLOCK = b"\x0b"
END_BLOCK = b"\x1c\x0d"
MAX_ACK_BYTES = 64 * 1024
ACCEPTED = frozenset({"AA", "CA"})
REFUSED = frozenset({"AE", "AR", "CE", "CR"})


def frame(message: str) -> bytes:
    """The MLLP frame of ``message`` (UTF-8, as its MSH-18 says)."""
    return START_BLOCK + message.encode("utf-8") + END_BLOCK


async def read_frame(reader: asyncio.StreamReader, limit: int = MAX_ACK_BYTES) -> str:
    """One framed message from ``reader``; ValueError when it is not framed or exceeds ``limit``."""
    start = await reader.readexactly(1)
    if start != START_BLOCK:
        raise ValueError("MLLP frame does not begin with the start block 0x0B")
    body = bytearray()
    while not body.endswith(END_BLOCK):
        chunk = await reader.read(4096)
        if not chunk:
            raise ValueError("connection closed inside an MLLP frame")
        body += chunk
        if len(body) > limit + len(END_BLOCK):
            raise ValueError(f"MLLP frame longer than {limit} bytes")
    return bytes(body[: -len(END_BLOCK)]).decode("utf-8", errors="replace")


def ack_code(ack: str, control_id: str) -> str:
    """MSA-1 of an acknowledgement of message ``control_id``; ValueError when it acknowledges another."""
    segments = [segment for segment in ack.replace("\n", "\r").split("\r") if segment]
    if not segments or not segments[0].startswith("MSH") or len(segments[0]) < 4:
        raise ValueError("acknowledgement does not begin with MSH")
    separator = segments[0][3]
    for segment in segments:
        fields = segment.split(separator)
        if fields[0] == "MSA":
            if len(fields) < 3 or fields[2] != control_id:
                raise ValueError("acknowledgement of another message")
            return fields[1]
    raise ValueError("acknowledgement without MSA segment")


class MllpClient:
    """One HL7 receiver; ``send`` makes one attempt."""

    def __init__(self, host: str, port: int, *, timeout: float = 10.0) -> None:
        self.host, self.port, self.timeout = host, port, timeout

    def __repr__(self) -> str:
        return f"MllpClient({self.host}:{self.port})"

    async def send(self, message: str, control_id: str) -> None:
        try:
            async with asyncio.timeout(self.timeout):
                reader, writer = await asyncio.open_connection(self.host, self.port)
                try:
                    writer.write(frame(message))
                    await writer.drain()
                    ack = await read_frame(reader)
                finally:
                    writer.close()
                    await writer.wait_closed()
        except (ValueError, asyncio.IncompleteReadError) as exc:
            raise TransientDeliveryError(f"bad acknowledgement ({type(exc).__name__})") from exc
        try:
            code = ack_code(ack, control_id)
        except ValueError as exc:
            raise TransientDeliveryError(f"bad acknowledgement ({exc})") from exc
        if code in ACCEPTED:
            return
        if code in REFUSED:
            raise DeliveryRejected(f"ACK {code}")
        raise TransientDeliveryError(f"unknown acknowledgement code {code[:4]!r}")
