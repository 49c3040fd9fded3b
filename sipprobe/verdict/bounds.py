"""Findings about the run's own bounds: a SIP flood the timeline had to thin out, and a
capture that stopped at its cap full of RTP (docs/demarc.md, "Findings")."""

from __future__ import annotations

from sipprobe.model.results import CaptureSummary, Finding, Severity, Side, SipLimits, StepResult


def _host(peer: str) -> str:
    """The address of an ``addr:port`` or ``[v6addr]:port`` peer."""
    return peer.rsplit(":", 1)[0].strip("[]") if peer.count(":") == 1 or "]" in peer else peer


def run_findings(
    sip: SipLimits | None,
    capture: CaptureSummary | None,
    target_address: str | None = None,
    steps: tuple[StepResult, ...] = (),
) -> tuple[Finding, ...]:
    """Findings about the run's own bounds: a SIP flood the timeline had to thin out, and a
    capture that stopped at its cap. Merged into the verdict with ``with_findings``.

    A flood is reported with where it came from; the side stays ``unknown``: a source
    address is no proof of who sent it (UDP), and a flood from the target's address may
    still be made on the path.
    """
    found: list[Finding] = []
    if sip is not None and sip.dropped_provisional:
        sources = ", ".join(f"{peer} ({count})" for peer, count in sip.dropped_from[:4])
        hosts = {_host(peer) for peer, _ in sip.dropped_from}
        if target_address is not None and hosts == {target_address}:
            whose = "all from the target's address"
        elif target_address is not None and target_address in hosts:
            whose = "partly from the target's address"
        else:
            whose = "not from the target's address"
        calls = dict(sip.dropped_calls)
        flooded = max(
            (s for s in steps if s.call is not None and s.call.call_id in calls),
            key=lambda s: calls[s.call.call_id] if s.call is not None else 0,
            default=None,
        )
        found.append(
            Finding(
                Severity.WARNING,
                Side.UNKNOWN,
                "messaging",
                "sip-flood",
                f"flood of provisional responses, {whose} ({sources}): "
                f"{sip.dropped_provisional} were not kept (the run keeps {sip.max_repeats} of "
                f"each kind per call and {sip.max_messages} messages in all)",
                flooded.index if flooded is not None else None,
                flooded.events if flooded is not None else (),
            )
        )
    if sip is not None and sip.dropped_other:
        found.append(
            Finding(
                Severity.WARNING,
                Side.UNKNOWN,
                "messaging",
                "sip-flood",
                f"{sip.dropped_other} SIP requests and final responses were not kept (the run "
                f"keeps {2 * sip.max_messages} in all)",
            )
        )
    if capture is not None and capture.limit is not None:
        rtp = capture.rtp_packets or 0
        packets = capture.packets or 0
        if packets and 2 * rtp >= packets:
            found.append(
                Finding(
                    Severity.WARNING,
                    Side.UNKNOWN,
                    "media",
                    "rtp-flood",
                    f"{capture.limit}: {rtp} of its {packets} packets were RTP, far more than "
                    "the run's calls carry (a flood, or a far end sending to the probe's "
                    "ports); later packets are neither in capture.pcap nor measured",
                )
            )
    return tuple(found)
