"""Shared fixtures: tiny seeded training runs, made once per test session."""

from __future__ import annotations

import functools
import gc
import os
import sys
from pathlib import Path

import pytest

# torch's OpenMP threads spin a while (GNU OpenMP: 300,000 turns) each time they wait for work. A test that asks for 2 threads
# (--threads 2, a resumed 2-thread run) or a `python -m lossdoc train` subprocess with its auto count shares 2 cores
# with the other -n 2 worker: spinning threads then burn the cores the other worker wants (a tiny 2-thread run: 2 s of
# CPU instead of 0.1 s on a busy machine). Passive waiting changes nothing the threads compute. Set here, before
# anything imports torch (in this process, the -n workers and the subprocesses, which inherit it); a value already set
# wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

# PYTHONDONTWRITEBYTECODE=1 (some machines' environments set it) makes every test process compile lossdoc from source
# and pytest rewrite every test module's asserts again, each run: ~4 s of CPU per -n worker, and each `python -m
# lossdoc` subprocess compiles what it imports. The tests keep their bytecode caches (__pycache__, ignored by git) as
# any Python run does; a cache never changes what runs (Python checks it against the source's mtime and size).
sys.dont_write_bytecode = False
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)


def pytest_configure(config):
    # -n N: distribute as --dist loadgroup, load but with the xdist_group marks set below holding tests together
    # (the controller schedules by group; each worker is told through pytest_configure_node to name the groups).
    if getattr(config.option, "dist", "no") == "load":
        config.option.dist = "loadgroup"
    if getattr(config, "workerinput", {}).get("lossdoc_loadgroup"):
        config.option.loadgroup = True
    if getattr(config.option, "dist", "no") != "no" and not hasattr(config, "workerinput"):
        return  # the -n controller runs no test: it need not import hypothesis and torch (3 s of CPU the workers want)

    # CI must be reproducible: under CI=true hypothesis draws the same cases every run (derandomize);
    # on a developer's machine it explores new ones, and what it finds becomes a regression test.
    from hypothesis import settings

    settings.register_profile("ci", derandomize=True, print_blob=True)
    settings.register_profile("dev", print_blob=True)
    settings.load_profile("ci" if os.environ.get("CI") else "dev")

    # Two cores: one torch thread per test process keeps tiny models fast even on a busy machine.
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:  # pragma: no cover
        pass

    # typer.testing.CliRunner().invoke(app, ...) builds the click command from the app at every call (7-8 ms of CPU,
    # ~170 calls a run); for lossdoc's app it takes the one lossdoc.cli.run uses, built once a process
    # (lossdoc.cli._click_command). Any other Typer app is built as before.
    import typer.main
    import typer.testing

    if typer.testing._get_command is typer.main.get_command:
        import lossdoc.cli

        def _get_command(app):
            return lossdoc.cli._click_command() if app is lossdoc.cli.app else typer.main.get_command(app)

        typer.testing._get_command = _get_command


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):  # pytest-xdist, on the controller, before a worker starts
    node.workerinput["lossdoc_loadgroup"] = node.config.option.dist == "loadgroup"


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's worker sends the warning to the controller
def pytest_warning_recorded(warning_message, when, nodeid, location):
    """A -n worker sends each warning's class to the controller by module and name, and the controller imports that
    module to make the class again: one Lightning warning made the controller import lightning, torch and transformers
    (~4 s of CPU, and a heap that made its final garbage collections take 1.4 s). A warning of a class from outside
    the standard library goes as its nearest built-in class, the text starting with the original class's full name:
    the summary shows the same warnings with the same words."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return
    category = warning_message.category
    if category is None or category.__module__ == "builtins":
        return
    builtin = next(c for c in category.__mro__ if c.__module__ == "builtins")
    warning_message.message = builtin(f"{category.__module__}.{category.__qualname__}: {warning_message.message}")
    warning_message.category = builtin


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's worker reads the xdist_group marks
def pytest_collection_modifyitems(config, items):
    for item in items:
        # Every user of the default_run fixture waits for the default-size run (about a minute on 2 cores): slow.
        # Under -n 2 (--dist loadgroup, pytest_configure above) they go to one worker together, so that the run is made
        # once, not once a worker; so do the tests that share a module-scoped fixture (a 2-process training run, a
        # calibration slice).
        defs = getattr(getattr(item, "_fixtureinfo", None), "name2fixturedefs", {})
        if "default_run" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)
            item.add_marker(pytest.mark.xdist_group("default_run"))
        elif item.get_closest_marker("xdist_group"):
            continue  # a group of its own: the tests that import transformers or Lightning, held on one worker
        elif any(d[-1].scope == "module" for d in defs.values()):
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::", 1)[0]))


# The cyclic garbage collector's full (oldest generation) collections walk every object a test process holds: with
# torch, transformers and Lightning imported, 1-2 million of them, ~0.3 s a collection, and a -n worker made 15-35 of
# them (3-9 s of CPU). Between tests, after the automatic full collection has run once more, whatever is still alive
# (modules, session- and module-scoped fixtures, caches) is collected once and frozen (gc.freeze, the documented
# call for long-lived objects): later collections leave it out. A test's own objects are never frozen while it runs,
# so a test that counts on the collector to free one sees the same collector as before. At the end everything is
# unfrozen and collected (pytest_unconfigure), so that the last collections see every object, as before.
_full_collections = [0]

# The automatic collections themselves: the youngest generation is collected after 10,000 net allocations of container
# objects rather than Python's default 700 (older generations after 10 of the younger one's, the default), so a worker
# makes a tenth of the young collections and few automatic full ones (each young one walks what the last test left;
# torch and the readers allocate millions of objects, almost none of them in reference cycles): ~1.3 s of CPU less a
# -n 2 run. Memory freed by reference counting, all of it but cycles, is freed as before; no test waits for the
# collector.
gc.set_threshold(10_000, 10, 10)


def _freeze_what_is_alive() -> None:
    gc.collect()
    gc.freeze()
    _full_collections[0] = gc.get_stats()[2]["collections"]


def pytest_collection_finish(session):
    _freeze_what_is_alive()  # the test modules, torch, hypothesis: all of them live to the end


@pytest.hookimpl(trylast=True)
def pytest_runtest_logfinish(nodeid, location):  # after the test's teardown
    if gc.get_stats()[2]["collections"] != _full_collections[0]:  # the collector made a full collection in this test
        _freeze_what_is_alive()


def pytest_unconfigure(config):
    # Everything is unfrozen and collected again, as often as a collection still finds garbage (a finalizer that ran can
    # leave more), with pytest's unraisable-exception hook still in place: an exception in a finalizer is reported as
    # before. Once a full collection finds nothing, another finds nothing either; what is left is frozen again, so that
    # pytest's own five full collections after this (its unraisable-exception check) do not walk the 0.5-0.7 million
    # objects of a -n worker five times more (~2 s of CPU at the end of the run, on the worker that ends last).
    gc.unfreeze()
    for _ in range(5):
        if not gc.collect():
            break
    gc.freeze()


ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "configs" / "tiny.yaml"


def tiny_config(tmp: Path, **over):
    from lossdoc.train.config import resolve_config

    return resolve_config(TINY, out=str(tmp), **over)


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Path:
    """A completed tiny dummy run (configs/tiny.yaml); returns its folder."""
    from lossdoc.train.loop import train

    out = tmp_path_factory.mktemp("tiny") / "run"
    train(tiny_config(out))
    return out


@pytest.fixture(scope="session")
def default_run(tmp_path_factory) -> Path:
    """The shipped default dummy run (about a minute on 2 cores), made once."""
    from lossdoc.train.config import TrainConfig
    from lossdoc.train.loop import train

    out = tmp_path_factory.mktemp("default") / "run"
    train(TrainConfig(out=str(out), device="cpu"))
    return out


@functools.cache
def run_schema_validator():
    """A validator of records against lossdoc.run/1's JSON Schema (lossdoc/runlog/run.schema.json), the schema checked
    against its metaschema once: ``jsonschema.validate(record, schema)`` checks the schema again at every call
    (~20 ms of CPU each, a thousand times a record's own validation). Its ``validate`` raises on an invalid record."""
    import json

    import jsonschema

    schema = json.loads((ROOT / "lossdoc" / "runlog" / "run.schema.json").read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def read_records(run_dir: Path) -> list[dict]:
    import json

    return [json.loads(line) for line in (run_dir / "run.jsonl").read_text().splitlines()]
