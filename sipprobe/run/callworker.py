"""A call worker: ``python -m sipprobe.run.callworker``, started by run/workers.py.

Reads its WorkerSpec as one JSON line on stdin, starts its own SIP stack (one pjsua2
Endpoint, at most MAX_CALLS calls) on the ports it was given, answers ``{"ready": ...}``,
waits for ``go``, places its calls together, and answers ``{"report": ...}`` (or
``{"error": ...}``) before it tears its stack down. Its stdout is the answer channel only:
anything C code prints goes to stderr.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import replace
from typing import IO, Any

from sipprobe.errors import SipProbeError
from sipprobe.model.limits import WORKER_RTP_PORTS
from sipprobe.run.crossing import WorkerCall, WorkerReport, report_to_dict
from sipprobe.run.workers import WorkerSpec
from sipprobe.scenario.credentials import read_password
from sipprobe.signalling.options import TlsSettings
from sipprobe.signalling.timeline import Timeline
from sipprobe.sip.uri import parse_uri


def _answer(channel: IO[str], key: str, value: Any) -> None:
    channel.write(json.dumps({key: value}) + "\n")
    channel.flush()


def serve(spec: WorkerSpec, channel: IO[str]) -> int:
    from sipprobe.signalling.account import Credentials, Identity, create_account
    from sipprobe.signalling.call import CallPlan, place_calls
    from sipprobe.signalling.stack import SipStack, StackSettings

    settings = StackSettings(
        transport=spec.transport,
        ipv6=":" in spec.bind_host,
        bind_host=spec.bind_host,
        sip_port=spec.sip_port,
        rtp_port=spec.rtp_port,
        rtp_port_span=WORKER_RTP_PORTS - 2,  # the last pair is still inside the block
        tls=TlsSettings(verify=spec.tls_verify, ca_file=spec.tls_ca_file),
        codecs=spec.codecs,
        srtp=spec.srtp,
    )
    credentials = None
    if spec.password_env or spec.password_file:
        password = read_password(spec.password_env, spec.password_file)
        credentials = Credentials(spec.auth_user or spec.user, password, spec.realm)
    identity = Identity(
        user=spec.user,
        domain=spec.domain,
        credentials=credentials,
        outbound_proxy=parse_uri(spec.outbound_proxy) if spec.outbound_proxy else None,
    )
    plan = CallPlan(
        uri=spec.uri,
        duration_s=spec.duration_s,
        answer_timeout_s=spec.answer_timeout_s,
        expect_status=spec.expect_status,
        dtmf=spec.dtmf,
        dtmf_method=spec.dtmf_method,
        hold_s=spec.hold_s,
        hold_mode=spec.hold_mode,
        session_expires_s=spec.session_expires_s,
        session_timer=spec.session_timer,
    )
    if spec.media_file:
        plan = replace(plan, media_file=spec.media_file)
    timeline = Timeline(time.monotonic)
    with SipStack(settings, timeline) as stack:
        account = create_account(stack, identity)
        _answer(channel, "ready", stack.local_sip)
        if sys.stdin.readline().strip() != "go":
            return 3  # the run went away
        outcomes = place_calls(stack, account, plan, spec.count)
        report = WorkerReport(
            t0=timeline.t0,
            events=timeline.snapshot(),
            calls=tuple(WorkerCall(o.result, o.timed_out, o.origin, o.events) for o in outcomes),
        )
        _answer(channel, "report", report_to_dict(report))
    return 0


def main() -> int:
    # The answer channel is a private copy of stdout; fd 1 then points at stderr, so nothing
    # pjlib prints can break a JSON line.
    channel = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    try:
        spec = WorkerSpec.from_json(sys.stdin.readline())
        return serve(spec, channel)
    except SipProbeError as exc:
        _answer(channel, "error", str(exc))
        return 3
    except (ValueError, TypeError, KeyError) as exc:
        _answer(channel, "error", f"bad worker spec: {exc}")
        return 3


if __name__ == "__main__":
    sys.exit(main())
