"""Media analysis on numpy arrays: sequence, jitter, bursts, de-jitter buffer and E-model.

Nothing here imports pjsua2 or scapy, so every number is testable on hand-made arrays and fast
on captures of millions of packets. ../shared/MEASUREMENT.md defines what each number means.
"""
