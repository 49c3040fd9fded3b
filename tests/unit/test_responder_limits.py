"""Limit accounting of the responder: per-source call rate, unconfirmed dialogs, TCP, table size."""

from __future__ import annotations

from sipprobe.responder.limits import Counters, Limits, Refusal, SourceTable

LIMITS = Limits(calls_per_s_per_source=2.0, call_burst_per_source=4, unconfirmed_per_source=3)


def test_responder_limits_rate_allows_a_burst_then_the_rate() -> None:
    table = SourceTable(LIMITS)
    results = [table.admit_call("192.0.2.1", 0.0) for _ in range(6)]
    assert results == [None, None, None, None, Refusal.RATE, Refusal.RATE]
    assert table.admit_call("192.0.2.1", 0.49) is Refusal.RATE  # 0.98 of a token back
    assert table.admit_call("192.0.2.1", 0.5) is None
    assert table.admit_call("192.0.2.2", 0.5) is None  # another source has its own bucket


def test_responder_limits_unconfirmed_per_source() -> None:
    table = SourceTable(Limits(unconfirmed_per_source=2, call_burst_per_source=100))
    for _ in range(2):
        assert table.admit_call("192.0.2.1", 0.0) is None
        table.add_unconfirmed("192.0.2.1", 0.0)
    assert table.admit_call("192.0.2.1", 0.0) is Refusal.UNCONFIRMED
    assert table.admit_call("192.0.2.9", 0.0) is None
    table.remove_unconfirmed("192.0.2.1")
    assert table.admit_call("192.0.2.1", 0.0) is None
    table.remove_unconfirmed("192.0.2.1")
    table.remove_unconfirmed("192.0.2.1")  # never below zero
    assert table.unconfirmed("192.0.2.1") == 0


def test_responder_limits_tcp_per_source() -> None:
    table = SourceTable(Limits(tcp_per_source=2))
    assert [table.open_tcp("192.0.2.1", 0.0) for _ in range(3)] == [True, True, False]
    table.close_tcp("192.0.2.1")
    assert table.open_tcp("192.0.2.1", 0.0) is True
    assert table.tcp("192.0.2.1") == 2


def test_responder_limits_table_bounded_and_pruned() -> None:
    table = SourceTable(LIMITS, max_sources=3)
    for n in range(3):
        assert table.admit_call(f"192.0.2.{n}", 0.0) is None
    table.add_unconfirmed("192.0.2.0", 0.0)
    # Full, and the others' buckets have not refilled yet: a new source is refused.
    assert table.admit_call("192.0.2.200", 0.1) is Refusal.SOURCES
    # Refilled (4 tokens at 2/s: 2 s): idle sources go, the one holding a dialog stays.
    assert table.admit_call("192.0.2.200", 2.5) is None
    assert len(table) == 2
    assert table.unconfirmed("192.0.2.0") == 1


def test_responder_limits_counters_line() -> None:
    counters = Counters()
    for refusal in (Refusal.BUSY, Refusal.RATE, Refusal.UNCONFIRMED, Refusal.MEDIA):
        counters.refused(refusal)
    line = counters.line()
    assert "refused_busy=1 refused_rate=1 refused_unconfirmed=1 refused_other=1" in line
    assert Refusal.BUSY.code == 486 and Refusal.RATE.code == 503
