"""The typed result model every layer shares: frozen records, enums, thresholds, limits.

Importing the package costs nothing: each module is imported where it is used, so that
command-line start-up need not build records it does not use.
"""
