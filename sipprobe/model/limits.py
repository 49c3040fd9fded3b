"""Limits of the SIP stack that other layers plan with (no pjsua2 import here)."""

# The pjsua2-python wheel is built with pjsua's default PJSUA_MAX_CALLS (4): a fifth
# simultaneous call fails with PJ_ETOOMANY. More needs a pjproject build with a larger value.
MAX_CALLS = 4

# RTP+RTCP ports handed out from a run's base port: far more than MAX_CALLS need, and the
# span the packet capture filters on.
RTP_PORT_SPAN = 400
