"""What a customer's router does to SIP, seen by `sipprobe nat-check` through a real router.

The probe sits in the customer namespace (10.231.1.2), the mirroring responder in the
platform namespace (10.231.2.2:5060, UDP and TCP), and the router between them masquerades,
runs the kernel's SIP ALG, or forgets idle UDP mappings early (lab/natlab.py). The kernel's
rules are the truth: masquerading means the far end sees 10.231.2.1, the ALG means the
customer address 10.231.1.2 arrives rewritten to 10.231.2.1, and a UDP timeout of N s
means a mapping idle for longer than N s is gone.
"""

from pathlib import Path
from typing import Any

import pytest

from lab.natlab import (
    attach_sip_alg,
    masquerade,
    nat_check,
    run_scenario,
    set_udp_timeout,
)
from lab.netns import CUSTOMER_ADDRESS, CUSTOMER_GATEWAY, PLATFORM_ADDRESS, Netlab

pytestmark = pytest.mark.lab

PUBLIC_ADDRESS = "10.231.2.1"  # the router's platform-side address: the customer's "WAN IP"
MIRROR_URI = f"sip:{PLATFORM_ADDRESS}:5060"
NO_BINDING = ("--binding-max", "0")
UDP_TIMEOUT_S = 7
BINDING_INTERVALS = "2,4,6,8,10,12"


def start_mirror(netlab: Netlab) -> None:
    netlab.start_responder("echo", "--mirror")


def exchanges(report: dict[str, Any], method: str = "OPTIONS") -> list[dict[str, Any]]:
    found = report["evidence"]["exchanges"]
    return [e for e in found if e["method"] == method]


def test_nat_check_masquerade_without_alg_detects_nat_only(netlab: Netlab) -> None:
    masquerade(netlab)
    start_mirror(netlab)
    run = nat_check(netlab, MIRROR_URI, *NO_BINDING)
    assert run.report["nat_detected"] is True
    assert run.report["alg_detected"] is False
    assert run.report["mirror"] is True
    for record in exchanges(run.report):
        local_port = record["local"].rsplit(":", 1)[1]
        assert record["local"].startswith(f"{CUSTOMER_ADDRESS}:")
        assert record["seen_by_far_end"] == f"{PUBLIC_ADDRESS}:{local_port}"  # port kept
        assert record["rewrites"] == []
    assert {e["transport"] for e in exchanges(run.report)} == {"udp", "tcp"}
    assert run.codes() == ["nat-detected"]
    assert run.returncode == 0, run.stderr


def test_nat_check_sip_alg_rewrites_are_shown(netlab: Netlab, tmp_path: Path) -> None:
    masquerade(netlab)
    attach_sip_alg(netlab)
    start_mirror(netlab)
    run = nat_check(netlab, MIRROR_URI, *NO_BINDING)
    assert run.report["alg_detected"] is True
    assert run.report["nat_detected"] is True
    for record in exchanges(run.report):
        # From names no port, so the kernel's ALG (address and port must match) leaves it.
        assert [r["part"] for r in record["rewrites"]] == ["Via", "Contact"], record["rewrites"]
        for rewrite in record["rewrites"]:
            assert CUSTOMER_ADDRESS in rewrite["before"], rewrite
            assert PUBLIC_ADDRESS in rewrite["after"], rewrite
            assert CUSTOMER_ADDRESS not in rewrite["after"], rewrite
    # The ALG rewrites SDP only in INVITE-family requests.
    for record in exchanges(run.report, "INVITE"):
        sdp = {r["part"]: r for r in record["rewrites"] if r["part"].startswith("SDP")}
        assert sdp["SDP c="]["before"] == f"c=IN IP4 {CUSTOMER_ADDRESS}"
        assert sdp["SDP c="]["after"] == f"c=IN IP4 {PUBLIC_ADDRESS}"
        assert record["status_code"] == 488
    # One ALG is one finding, every rewritten line in it; the rewrites carry the public
    # address the mirror saw the requests come from, so the customer's router did it.
    (alg,) = [f for f in run.report["findings"] if f["code"] == "sip-alg-rewrite"]
    rewritten = sum(len(record["rewrites"]) for record in exchanges(run.report))
    rewritten += sum(len(record["rewrites"]) for record in exchanges(run.report, "INVITE"))
    lead = f"SIP ALG rewrote {rewritten} lines of the probe's requests: Via (OPTIONS over UDP): "
    assert alg["summary"].startswith(lead + "SIP/2.0/UDP"), alg["summary"]
    assert f"the rewritten values carry {PUBLIC_ADDRESS}," in alg["summary"]
    assert alg["side"] == "customer-network"
    assert run.returncode == 1, run.stderr  # WARNING: messaging degraded by the router

    scenario = tmp_path / "nat.yaml"
    scenario.write_text(
        f"name: nat\ntarget: {MIRROR_URI}\nsteps:\n"
        "  - nat_check: {transports: [udp], binding_max_s: 0}\n"
    )
    report = run_scenario(netlab, str(scenario)).report
    assert report["verdict"]["messaging"] == "degraded"
    codes = {f["code"] for f in report["verdict"]["findings"]}
    assert "sip-alg-rewrite" in codes
    (step,) = report["steps"]
    assert step["kind"] == "nat_check" and step["detail"]["alg_detected"] is True


def test_nat_check_without_nat_finds_neither(netlab: Netlab) -> None:
    start_mirror(netlab)
    run = nat_check(netlab, MIRROR_URI, *NO_BINDING)
    assert run.report["nat_detected"] is False
    assert run.report["alg_detected"] is False
    for record in run.report["evidence"]["exchanges"]:
        assert record["seen_by_far_end"] == record["local"]
        assert record["rewrites"] == []
    assert run.report["findings"] == []
    assert run.returncode == 0, run.stderr


def test_nat_check_binding_lifetime_follows_router_udp_timeout(netlab: Netlab) -> None:
    masquerade(netlab)
    set_udp_timeout(netlab, UDP_TIMEOUT_S)
    start_mirror(netlab)
    run = nat_check(
        netlab,
        MIRROR_URI,
        *("--transports", "udp", "--binding-intervals", BINDING_INTERVALS),
        *("--binding-max", "60", "--keepalive", "30"),
    )
    lower, upper = run.report["binding_lifetime_s"], run.report["binding_lifetime_upper_s"]
    assert (lower, upper) == (6, 8), run.report["evidence"]["binding"]
    assert lower <= UDP_TIMEOUT_S <= upper
    probes = run.report["evidence"]["binding"]["probes"]
    assert [p["alive"] for p in probes] == [True, True, True, False]
    assert all(p["mapping"].startswith(f"{PUBLIC_ADDRESS}:") for p in probes)
    codes = run.codes()
    assert "binding-lifetime-short" in codes
    assert "binding-shorter-than-refresh" in codes  # the 30 s keepalive is too long
    assert run.returncode == 1, run.stderr


def test_nat_check_binding_lifetime_without_nat_is_a_lower_bound(netlab: Netlab) -> None:
    start_mirror(netlab)
    run = nat_check(
        netlab,
        MIRROR_URI,
        *("--transports", "udp", "--binding-intervals", "1,2", "--binding-max", "3"),
    )
    assert run.report["binding_lifetime_s"] == 2
    assert run.report["binding_lifetime_upper_s"] is None
    assert run.returncode == 0, run.stderr
    assert CUSTOMER_GATEWAY not in str(run.report["evidence"]["binding"])
