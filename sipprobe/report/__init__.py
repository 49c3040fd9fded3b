"""Turning a RunReport into text, JSON and files."""
