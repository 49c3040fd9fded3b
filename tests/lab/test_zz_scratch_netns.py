import json, subprocess, time
from lab.netns import Netlab


def test_scratch(netlab: Netlab, tmp_path) -> None:
    r = netlab.start_responder()
    up = netlab.drop_random("upstream", 0.05)
    oracle = subprocess.Popen(
        [
            "ip",
            "netns",
            "exec",
            netlab.customer,
            "tcpdump",
            "-i",
            "any",
            "-n",
            "-U",
            "-w",
            "/tmp/scratch/oracle.pcap",
            "udp",
        ],
        stderr=subprocess.DEVNULL,
    )
    time.sleep(1)
    run = netlab.call(r.uri(), 10, "--out", "/tmp/scratch/out")
    time.sleep(1)
    oracle.terminate()
    oracle.wait()
    c = run.report["calls"][0]
    for s in c["streams"]:
        print(
            s["direction"],
            s["src"],
            s["dst"],
            s["packets"],
            s["expected"],
            s["lost"],
            s["loss_pct"],
            s["dscp"],
            s["far_end"],
            s["start_s"],
            s["end_s"],
        )
    print("rtcp", c["rtcp"])
    print("up seen/hit", up.seen(), up.hits())
    print(run.report["capture"])
