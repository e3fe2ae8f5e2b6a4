"""Command-line plumbing: finding runs, parse errors, progress lines."""

EN = {
    "cli.picked_run": "Explaining the newest run in {parent}: {path}",
    "cli.explain_again": "Explain this run again: {command}",
    "rule.vocab_size": "the vocabulary size must be an integer >= {bound} (with one token there is nothing to predict: every loss is 0)",
    "rule.dummy_vocab": "dummy data needs V >= {bound}: its ids are drawn from [1, V) like the seed's torch.randint(1, V), and fewer than 2 ids leave nothing to predict",
    "next.real_data_offline": "Nothing to fix. To see a model learn, train on real text: lossdoc train --data pydoc (Python's own documentation, ships with Python, no download; the Hugging Face hub is not reachable from here, so --data wikitext2 would not load). The loss will then fall well below ln V.",
    "error.no_runs_dir": "no run given, and there is no {path} folder here: pass a log or a run folder (lossdoc explain RUN), or make a run with: lossdoc train --data dummy",
    "error.no_runs": "no run given, and {path} holds no run folder with a run.jsonl: pass a log or a run folder (lossdoc explain RUN), or make a run with: lossdoc train --data dummy",
}

ZH = {
    "cli.picked_run": "正在解释 {parent} 中最新的一次训练：{path}",
    "cli.explain_again": "再次解释这次训练：{command}",
    "rule.vocab_size": "词表大小必须是不小于 {bound} 的整数（只有一个词元时没有什么可预测，损失恒为 0）",
    "rule.dummy_vocab": "dummy 数据要求 V >= {bound}：它的 id 取自 [1, V)，与种子脚本的 torch.randint(1, V) 一样，少于 2 个 id 就没有什么可预测",
    "next.real_data_offline": "不需要修改什么。想看到模型真正学到东西，请用真实文本训练：lossdoc train --data pydoc（Python 自带的文档，无需下载；本机连不上 Hugging Face hub，所以 --data wikitext2 无法加载）。损失会明显降到 ln V 以下。",
    "error.no_runs_dir": "没有指定训练日志，当前目录下也没有 {path} 文件夹：请给出日志或训练目录（lossdoc explain RUN），或先训练一次：lossdoc train --data dummy",
    "error.no_runs": "没有指定训练日志，{path} 中也没有带 run.jsonl 的训练目录：请给出日志或训练目录（lossdoc explain RUN），或先训练一次：lossdoc train --data dummy",
}
