"""SIP and SDP on the wire, as pure code: messages, SDP, URIs, digest, transports.

One owner per wire concept, used alike by signalling (the probe's own messages), the capture
analysis (messages read from a pcap) and the NAT check.
"""
