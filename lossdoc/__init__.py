"""lossdoc: is my loss curve OK? Floors, baselines and verdicts for LM training runs."""

__version__ = "0.1.0"

__all__ = ["RunLogger", "__version__"]


def __getattr__(name: str):
    # lazy: `import lossdoc` stays light (no torch, rich or typer), RunLogger loads on first use
    if name == "RunLogger":
        from lossdoc.runlog.logger import RunLogger

        return RunLogger
    raise AttributeError(f"module 'lossdoc' has no attribute {name!r}")
