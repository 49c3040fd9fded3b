"""Limits of the SIP stack that other layers plan with (no pjsua2 import here)."""

# The pjsua2-python wheel is built with pjsua's default PJSUA_MAX_CALLS (4): a fifth
# simultaneous call fails with PJ_ETOOMANY. More needs a pjproject build with a larger value.
MAX_CALLS = 4

# RTP+RTCP ports handed out from a run's base port: far more than MAX_CALLS need, and the
# span the packet capture filters on.
RTP_PORT_SPAN = 400

# Simultaneous calls one call step may hold: beyond MAX_CALLS they are spread over worker
# processes (run/workers.py), each with its own stack and MAX_CALLS calls at most.
MAX_PARALLEL_CALLS = 200

# RTP+RTCP ports of one worker process: MAX_CALLS calls take 2 ports each; the rest is room for
# ports another program holds (pjsua moves on by 2 and wraps inside the block).
WORKER_RTP_PORTS = 40
