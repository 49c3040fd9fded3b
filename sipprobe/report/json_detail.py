"""The ``detail`` object of each step in the JSON report, and the NAT check's evidence.

Built from the typed step details; the keys are the record fields' names, in the order the
JSON contract has always had them (``sipprobe/schema/report.schema.json``).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sipprobe.model.inbound import InboundCall
from sipprobe.model.nat import BindingMeasurement, NatCheckResult, NatExchange
from sipprobe.model.steps import (
    AnswerDetail,
    CallDetail,
    NatCheckDetail,
    OptionsDetail,
    RegisterDetail,
    StepDetail,
    WaitDetail,
)


def detail_json(detail: StepDetail) -> dict[str, Any]:
    if isinstance(detail, OptionsDetail):
        return {
            "server": detail.server,
            "user_agent": detail.user_agent,
            "allow": list(detail.allow),
            "supported": list(detail.supported),
            "retransmissions": detail.retransmissions,
            "error": detail.error,
            "timeout_s": detail.timeout_s,
        }
    if isinstance(detail, RegisterDetail):
        return {
            "action": detail.action,
            "expires_s": detail.expires_s,
            "requested_expires_s": detail.requested_expires_s,
            "contacts": [contact.text for contact in detail.contacts],
            "contact_sent": detail.contact_sent.text if detail.contact_sent else None,
            "challenge": detail.challenge,
            "credentials": detail.credentials,
        }
    if isinstance(detail, CallDetail):
        return {
            "duration_s": detail.duration_s,
            "expect_dscp": detail.expect_dscp,
            "srtp": detail.srtp,
            "timed_out": detail.timed_out,
            "credentials": detail.credentials,
        }
    if isinstance(detail, NatCheckDetail):
        return nat_result_json(detail.result)
    if isinstance(detail, WaitDetail):
        return {"seconds": detail.seconds}
    if isinstance(detail, AnswerDetail):
        return {
            "account": detail.account,
            "listening_on": detail.listening_on,
            "timeout_s": detail.timeout_s,
            "duration_s": detail.duration_s,
            "waited_ms": detail.waited_ms,
            "caller": inbound_call_json(detail.caller),
            "hangup_by": detail.hangup_by,
            "interrupted": detail.interrupted,
            "error": detail.error,
            "registered_at_step": detail.registered_at_step,
            "expect_from": detail.expect_from,
            "expect_to": detail.expect_to,
        }
    raise TypeError(f"no JSON for step detail {detail!r}")


def inbound_call_json(caller: InboundCall | None) -> dict[str, Any] | None:
    """Who called and what arrived (an answer step's ``detail.caller``)."""
    if caller is None:
        return None
    return {
        "source": caller.source,
        "transport": caller.transport,
        "request_uri": caller.request_uri,
        "from": caller.from_header,
        "to": caller.to_header,
        "p_asserted_identity": caller.asserted_identity,
        "contact": caller.contact,
        "user_agent": caller.user_agent,
        "call_id": caller.call_id,
        "invite_after_ms": caller.invite_after_ms,
        "ringing_sent_ms": caller.ringing_sent_ms,
        "answered_sent_ms": caller.answered_sent_ms,
        "ack_after_ms": caller.ack_after_ms,
        "offered_codecs": list(caller.offered_codecs),
        "delayed_offer": caller.delayed_offer,
        "held_by_caller": [asdict(r) for r in caller.held_by_caller],
    }


def nat_result_json(result: NatCheckResult) -> dict[str, Any]:
    return {
        "nat_detected": result.nat_detected,
        "alg_detected": result.alg_detected,
        "mirror": result.mirror,
        "binding_lifetime_s": result.binding_lifetime_s,
        "binding_lifetime_upper_s": result.binding_lifetime_upper_s,
        "keepalive_s": result.keepalive_s,
        "register_expires_s": result.register_expires_s,
        "exchanges": [exchange_json(e) for e in result.exchanges],
        "binding": binding_json(result.binding),
    }


def exchange_json(exchange: NatExchange) -> dict[str, Any]:
    return {
        "transport": exchange.transport,
        "method": exchange.method,
        "status_code": exchange.status_code,
        "reason": exchange.reason,
        "error": exchange.error,
        "local": exchange.local,
        "via_received": exchange.via_received,
        "via_rport": exchange.via_rport,
        "seen_by_far_end": exchange.seen_by_far_end,
        "mirrored": exchange.mirrored,
        "rewrites": [
            {"part": r.part, "before": r.before, "after": r.after} for r in exchange.rewrites
        ],
        "private_in_answer": [
            {"address": p.address, "kind": p.kind} for p in exchange.private_in_answer
        ],
        "sent": exchange.sent,
        "received": exchange.received,
        "mirrored_request": exchange.mirrored_request,
    }


def binding_json(binding: BindingMeasurement | None) -> dict[str, Any] | None:
    if binding is None:
        return None
    return {
        "lower_s": binding.lower_s,
        "upper_s": binding.upper_s,
        "error": binding.error,
        "probes": [
            {"idle_s": p.idle_s, "mapping": p.mapping, "alive": p.alive} for p in binding.probes
        ],
        "elapsed_s": binding.elapsed_s,
        "intervals_s": list(binding.intervals_s),
        "max_total_s": binding.max_total_s,
    }
