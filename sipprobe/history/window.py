"""How many earlier good runs a baseline draws on (see ``baseline``).

Apart from ``baseline`` so that building the command line's ``--baseline-runs`` option does
not import the history machinery.
"""

DEFAULT_WINDOW = 20
MINIMUM_RUNS = 5
