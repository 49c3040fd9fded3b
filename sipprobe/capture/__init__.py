"""Live packet capture during a run (the probe's own SIP and RTP) into a pcap file."""
