"""What a JetStream message's reply (ack) subject says: its stream sequence, its consumer sequence and how
many matching messages the consumer still has pending. Read by the projection runner (its checkpoint) and
by the rebuild's replay (its merge and end), neither of which parses message headers."""
from __future__ import annotations


def reply_tokens(reply: str) -> tuple[int, int, int]:
    """(stream seq, consumer seq, pending) from a JetStream reply subject:
    $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>  (v1)
    $JS.ACK.<domain>.<account>.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>.<token>  (v2)"""
    t = reply.split(".")
    i = 5 if len(t) == 9 else 7
    return int(t[i]), int(t[i + 1]), int(t[i + 3])


def stream_seq(reply: str) -> int:
    return reply_tokens(reply)[0]
