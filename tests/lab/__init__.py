"""Real peers for sipprobe lab tests: Kamailio, SIPp, and the helpers that run and poke them."""
