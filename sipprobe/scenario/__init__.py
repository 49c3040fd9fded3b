"""Scenario files: YAML in, a validated ``Scenario`` out."""
