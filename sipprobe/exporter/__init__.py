"""``sipprobe exporter``: probes on demand for Prometheus, in the blackbox_exporter style.

``GET /probe?target=URI&module=NAME`` runs the module against the target in a child process
and answers with OpenMetrics; Prometheus does the scheduling, storage and alerting of a fleet.
"""
