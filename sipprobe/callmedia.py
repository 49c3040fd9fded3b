"""Each call's media, measured from the run's capture: which stream is which, in which direction.

The SDP the probe sent (the offer) says where the probe receives RTP; the SDP answer says
where the far end wants it. A stream arriving at the probe's address is ``rx`` (platform to
probe), one leaving it is ``tx`` (probe to platform, the probe's own sending regularity: the
measurement floor). Both come from the capture, so ``source`` is ``capture``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sipprobe.analysis.analyze import AnalysisResult, AnalyzeOptions, analyze_file, stream_json
from sipprobe.models import SipEvent, StepResult
from sipprobe.signalling.message import parse_message


@dataclass(frozen=True, slots=True)
class CallMediaEnds:
    """Where a call's RTP should flow, from the SDP offer and answer in the timeline."""

    call_id: str
    local: str | None  # "addr:port" the probe announced
    remote: str | None  # "addr:port" the far end announced


def sdp_endpoint(body: str) -> str | None:
    """``addr:port`` of the first audio stream of an SDP body (c= at media or session level)."""
    session_addr = None
    media_addr = None
    port = None
    in_audio = False
    for raw in body.replace("\r\n", "\n").split("\n"):
        line = raw.strip()
        if line.startswith("m="):
            if in_audio:
                break
            fields = line[2:].split()
            in_audio = len(fields) > 1 and fields[0] == "audio"
            if in_audio and fields[1].isdigit():
                port = int(fields[1])
        elif line.startswith("c=") and len(line.split()) >= 3:
            address = line.split()[2].split("/")[0]
            if in_audio:
                media_addr = address
            elif port is None:
                session_addr = address
    chosen = media_addr or session_addr
    if chosen is None or port is None:
        return None
    return f"[{chosen}]:{port}" if ":" in chosen else f"{chosen}:{port}"


def call_media_ends(events: Iterable[SipEvent], call_id: str) -> CallMediaEnds:
    local = remote = None
    for event in events:
        if event.call_id != call_id or "application/sdp" not in event.text.lower():
            continue
        try:
            endpoint = sdp_endpoint(parse_message(event.text).body)
        except ValueError:
            continue
        if event.direction == "tx" and event.is_request and event.method == "INVITE":
            local = local or endpoint
        elif event.direction == "rx" and event.status_code is not None:
            remote = endpoint or remote  # the last answer wins (183 then 200)
    return CallMediaEnds(call_id, local, remote)


def _port(endpoint: str | None) -> int | None:
    if endpoint is None:
        return None
    return int(endpoint.rsplit(":", 1)[1])


def analyse_run_capture(
    path: Path, ends: list[CallMediaEnds], jitter_buffer_ms: float = 60.0
) -> AnalysisResult:
    ports = tuple(p for p in (_port(e.local) for e in ends) if p is not None)
    return analyze_file(path, AnalyzeOptions(jitter_buffer_ms=jitter_buffer_ms, rtp_ports=ports))


def streams_of_call(analysis: AnalysisResult, ends: CallMediaEnds) -> tuple[dict[str, Any], ...]:
    """The call's streams as report objects, rx first, each with direction and source."""
    if ends.local is None:
        return ()
    found: list[dict[str, Any]] = []
    for result in analysis.streams:
        stream = result.stream
        if stream.dst == ends.local:
            direction = "rx"
        elif stream.src == ends.local:
            direction = "tx"
        else:
            continue
        data = stream_json(result)
        data["direction"] = direction
        data["source"] = "capture"
        data["sdp_remote"] = ends.remote
        data["from_announced_address"] = stream.src == ends.remote if direction == "rx" else None
        found.append(data)
    return tuple(sorted(found, key=lambda s: (s["direction"] != "rx", s.get("start_s") or 0)))


def attach_streams(
    steps: tuple[StepResult, ...], timeline: tuple[SipEvent, ...], analysis: AnalysisResult
) -> tuple[StepResult, ...]:
    """Steps with each call's ``streams`` filled from the capture analysis."""
    updated = []
    for step in steps:
        call = step.call
        if call is None or not call.call_id:
            updated.append(step)
            continue
        ends = call_media_ends(timeline, call.call_id)
        streams = streams_of_call(analysis, ends)
        updated.append(replace(step, call=replace(call, streams=streams)))
    return tuple(updated)


def calls_media_ends(
    steps: tuple[StepResult, ...], timeline: tuple[SipEvent, ...]
) -> list[CallMediaEnds]:
    return [
        call_media_ends(timeline, s.call.call_id)
        for s in steps
        if s.call is not None and s.call.call_id
    ]
