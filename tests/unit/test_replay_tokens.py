"""The stream sequence, consumer sequence and pending count of a JetStream reply subject, in both forms
(the second is what a server with a JetStream domain sends)."""
from shared.acks import reply_tokens, stream_seq


def test_reply_subject_without_domain():
    reply = "$JS.ACK.PB_450503.ratings_stars.1.1207.45.1795297087332559725.99"
    assert reply_tokens(reply) == (1207, 45, 99)
    assert stream_seq(reply) == 1207


def test_reply_subject_with_domain():
    reply = "$JS.ACK.hub.ACCHASH.PB_450503.ratings_stars.1.1207.45.1795297087332559725.99.x7Yq"
    assert reply_tokens(reply) == (1207, 45, 99)
    assert stream_seq(reply) == 1207  # was the consumer sequence before
