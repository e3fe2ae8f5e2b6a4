"""lossdoc: is my loss curve OK? Floors, baselines and verdicts for LM training runs."""

__version__ = "0.1.0"
