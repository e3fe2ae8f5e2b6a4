"""Command-line plumbing: finding runs, parse errors, progress lines."""

EN = {
    "cli.picked_run": "Explaining the newest run in {parent}: {path}",
    "cli.explain_again": "Explain this run again: {command}",
    "error.no_runs_dir": "no run given, and there is no {path} folder here: pass a log or a run folder (lossdoc explain RUN), or make a run with: lossdoc train --data dummy",
    "error.no_runs": "no run given, and {path} holds no run folder with a run.jsonl: pass a log or a run folder (lossdoc explain RUN), or make a run with: lossdoc train --data dummy",
}

ZH = {
    "cli.picked_run": "正在解释 {parent} 中最新的一次训练：{path}",
    "cli.explain_again": "再次解释这次训练：{command}",
    "error.no_runs_dir": "没有指定训练日志，当前目录下也没有 {path} 文件夹：请给出日志或训练目录（lossdoc explain RUN），或先训练一次：lossdoc train --data dummy",
    "error.no_runs": "没有指定训练日志，{path} 中也没有带 run.jsonl 的训练目录：请给出日志或训练目录（lossdoc explain RUN），或先训练一次：lossdoc train --data dummy",
}
