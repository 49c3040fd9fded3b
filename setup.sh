#!/usr/bin/env bash
# Set up sipprobe on Debian 12 and run the demo or the full test suite.
#
#   ./setup.sh demo   install what is missing, then probe the built-in responder on loopback
#   ./setup.sh test   install what is missing, then ruff, mypy and pytest (lab tests included)
#
# Needs root for apt-get (and, for the tests, for network namespaces). Idempotent: a second
# run installs nothing and goes straight to the job.
set -euo pipefail
cd "$(dirname "$0")"
job=${1:-demo}
case "$job" in demo | test) ;; *) echo "usage: $0 demo|test" >&2; exit 3 ;; esac

# Debian packages: the lab's real peers (Kamailio, rtpengine as its media relay, SIPp, the baresip
# soft phone), Prometheus (and its promtool) scraping the exporter, tshark as a test oracle,
# chromium to open report.html in a test, the kernel tools for namespaces and packet filters,
# and what a venv needs on a stock Debian.
debs=(kamailio kamailio-tls-modules rtpengine-daemon sip-tester baresip tshark tcpdump iproute2
      nftables iptables openssl prometheus chromium python3 python3-venv python3-dev gcc)
missing=()
for deb in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$deb" 2>/dev/null | grep -q "ok installed" || missing+=("$deb")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
stamp=.venv/.sipprobe-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  .venv/bin/python -m pip install -q -e '.[test]'
  touch "$stamp"
fi

if [ "$job" = demo ]; then
  exec .venv/bin/sipprobe demo
fi
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
exec .venv/bin/pytest
