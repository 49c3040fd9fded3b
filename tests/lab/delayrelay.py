"""A delay-variation relay for the fault-matrix lab: a TUN device that holds each packet 0-N ms.

    python tests/lab/delayrelay.py --tun NAME [--max-delay-ms 80] [--lifetime-s 120] [--seed S]

Runs inside one namespace of the lab (`ip netns exec`), attached to a persistent TUN device
that faultlab.py created there (`ip tuntap add dev NAME mode tun`, no packet information
header). The namespace's policy routing sends the packets to delay into the TUN device
(an iptables MARK on the RTP to delay, `ip rule fwmark ... lookup T`, `default dev NAME
table T`); this process reads each IP packet from the device and writes it back, unchanged,
after a delay drawn uniformly from 0 to --max-delay-ms. A packet written into a TUN device
enters the namespace again as received on it, unmarked, and is routed on by the main table
to where it was going.

At 50 packets/s (20 ms apart) a uniform 0-80 ms delay reorders a packet with the next one
when their delays differ by more than 20 ms: probability (60/80)**2 / 2 = 28 %.

Bounded: it exits after --lifetime-s seconds (or on SIGTERM), holds at most 10,000 packets
and sends nothing but the packets it was given. It prints `ready` once attached.
"""

import argparse
import fcntl
import heapq
import os
import random
import select
import signal
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
MAX_HELD = 10_000


def attach(name: str) -> int:
    """File descriptor of the TUN device `name` (IFF_TUN, no packet information)."""
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    return fd


def relay(
    fd: int, max_delay_s: float, lifetime_s: float, rng: random.Random, counts: dict[str, int]
) -> None:
    """Forward packets with random delays until the lifetime ends, counting into `counts`."""
    deadline = time.monotonic() + lifetime_s
    held: list[tuple[float, int, bytes]] = []
    while True:
        now = time.monotonic()
        if now >= deadline:
            counts["dropped"] += len(held)
            return
        while held and held[0][0] <= now:
            os.write(fd, heapq.heappop(held)[2])
            counts["relayed"] += 1
        wait = min(deadline, held[0][0] if held else deadline) - now
        readable, _, _ = select.select([fd], [], [], max(wait, 0.0))
        if readable:
            packet = os.read(fd, 65535)
            if len(held) >= MAX_HELD:
                counts["dropped"] += 1
                continue
            counts["received"] += 1
            due = time.monotonic() + rng.uniform(0, max_delay_s)
            heapq.heappush(held, (due, counts["received"], packet))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tun", required=True)
    parser.add_argument("--max-delay-ms", type=float, default=80.0)
    parser.add_argument("--lifetime-s", type=float, default=120.0)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    fd = attach(args.tun)
    print("ready", flush=True)
    counts = {"received": 0, "relayed": 0, "dropped": 0}
    try:
        relay(fd, args.max_delay_ms / 1000, args.lifetime_s, random.Random(args.seed), counts)
    finally:
        print(" ".join(f"{name} {value}" for name, value in counts.items()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
