"""The run pipeline: a scenario's steps in order, the run's capture, call media, the demo,
repeated runs on a schedule and many targets in child processes."""
