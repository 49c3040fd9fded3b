"""Run history: an SQLite store of every run's key figures, and baselines drawn from it."""
