"""Token buckets."""

from __future__ import annotations

from server.ratelimit import Bucket, KeyedLimiter


def test_bucket_allows_a_burst_then_the_rate():
    bucket = Bucket.full(rate=2.0, burst=3.0, now=0.0)
    assert [bucket.take(0.0) for _ in range(4)] == [True, True, True, False]
    assert bucket.take(0.5)  # one token back after 0.5 s at 2/s
    assert not bucket.take(0.5)


def test_keyed_limiter_blocks_one_address_not_others_and_forgets_old_keys():
    limiter = KeyedLimiter(rate=1 / 60, burst=2, max_keys=2)
    assert not limiter.blocked("a", 0.0)
    limiter.take("a", 0.0)
    limiter.take("a", 0.0)
    assert limiter.blocked("a", 1.0)
    assert not limiter.blocked("b", 1.0)
    assert not limiter.blocked("a", 61.0)  # a token came back
    limiter.take("b", 62.0)
    limiter.take("c", 62.0)  # "a" is the least recently used: forgotten
    assert not limiter.blocked("a", 62.0)
