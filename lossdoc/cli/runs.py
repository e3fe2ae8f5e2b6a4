"""Which run `lossdoc explain` reads when it is given no log, or a folder of runs.

``lossdoc explain`` alone reads the newest run under ./runs (where `lossdoc train`
puts runs), and so does ``lossdoc explain run.jsonl`` when there is no ./run.jsonl
(the design card's command, typed where `train` was run); ``lossdoc explain runs/`` does the same for any folder that holds
run folders rather than a log of its own. The choice is said on stderr, so that
``--json`` output stays one document.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from lossdoc.errors import LossdocError
from lossdoc.i18n import t
from lossdoc.runlog.files import LOG_NAMES, RUNS_DIR, existing_log, newest_run


def _has_own_log(folder: Path) -> bool:
    from lossdoc.runlog.readers import reads_as_one_run  # (imported here: the readers cost start-up 0.4 s)

    return reads_as_one_run(folder)


def pick_run(path: Path | None, lang: str) -> Path:
    """The path to read: ``path`` itself, or the newest run folder when ``path`` is None (./runs)
    or a folder that holds run folders and no log of its own. Says so on stderr when it chose."""
    if path is not None and not path.exists() and len(path.parts) == 1 and path.name in LOG_NAMES and Path(RUNS_DIR).is_dir():
        path = None  # `lossdoc explain run.jsonl` next to ./runs, as the design card writes it: the newest run's log
    if path is not None and path.is_file() and path.name == "config.yaml" and existing_log(path.parent) is not None:
        raise LossdocError("error.explain_config", path=str(path), log=str(existing_log(path.parent)))
    if path is not None and path.is_dir() and existing_log(path) is None and newest_run(path / RUNS_DIR) is not None:
        path = path / RUNS_DIR  # `lossdoc explain .` where train was run: the newest run, not a walk of the tree (issue 24)
    parent = Path(RUNS_DIR) if path is None else path
    if path is not None and (not path.is_dir() or _has_own_log(path)):
        return path
    if path is None and not parent.is_dir():
        raise LossdocError("error.no_runs_dir", path=str(parent))
    newest = newest_run(parent)
    if newest is None:
        if path is not None:
            return path  # an ordinary folder: the readers say what they looked for
        raise LossdocError("error.no_runs", path=str(parent))
    from lossdoc.render.console import err

    err.print(t("cli.picked_run", lang, path=str(newest), parent=str(parent)), markup=False, highlight=False)
    return newest


def explain_command_for(log: Path) -> str:
    """The exact command that explains this run log again, quoted for a POSIX shell. The path is absolute, so the
    command works from any folder (a path relative to where the run started failed anywhere else: issue 24)."""
    return f"lossdoc explain {shlex.quote(str(Path(log).absolute()))}"
