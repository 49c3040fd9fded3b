"""Media analysis on numpy arrays: sequence, jitter, bursts, de-jitter buffer and E-model.

Nothing here imports pjsua2 or scapy, so every number is testable on hand-made arrays and fast
on captures of millions of packets. docs/measurement.md says what each number means.
"""
