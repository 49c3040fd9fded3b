"""The SIP transports the probe speaks, and their default ports.

Apart from ``uri`` so that building the command line's ``--transport`` option imports no more
than this.
"""

TRANSPORTS = ("udp", "tcp", "tls")
DEFAULT_PORTS = {"udp": 5060, "tcp": 5060, "tls": 5061}
