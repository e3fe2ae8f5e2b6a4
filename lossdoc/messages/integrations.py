"""The training callbacks (Hugging Face, Lightning) and RunLogger: what they print when they stop a run."""

EN = {
    "integrations.stopped": (
        "lossdoc: stop_on={stop_on} stopped training at step {step}: the verdict is {verdict} (failing checks: {findings}); "
        "the log ends with status stopped"
    ),
    "integrations.stopped_plateau": (
        "lossdoc: stop_on=plateau stopped training at step {step}: the validation loss has reached its plateau "
        "(verdict {verdict} at each of the last {patience} evaluation(s)); the log ends with status stopped"
    ),
    "integrations.no_findings": "none",
}

ZH = {
    "integrations.stopped": "lossdoc：stop_on={stop_on} 在第 {step} 步停止了训练：结论为{verdict}（未通过的检查：{findings}）；日志以 stopped 状态结束",
    "integrations.stopped_plateau": (
        "lossdoc：stop_on=plateau 在第 {step} 步停止了训练：验证损失已到达平台期（最近连续 {patience} 次评估的结论均为{verdict}）；"
        "日志以 stopped 状态结束"
    ),
    "integrations.no_findings": "无",
}
