"""NAT and SIP ALG detection: what the customer's router does to SIP."""
