"""Reading logs: warnings the readers tolerate, and their errors."""

EN = {
    "warn.torn_last_line": "the last line ({line}) is incomplete, as when a run is killed mid-write; it was ignored",
    "warn.corrupt_lines": "{count} corrupt line(s) skipped, the first at line {first}",
    "warn.missing_fields": "{count} record(s) without the required fields skipped",
    "warn.batches_sampled": (
        "the log has {total} batch records, more than lossdoc holds at once: 1 in {k} was read ({kept} kept, with the first, "
        "the last and every non-finite loss; every evaluation, event and end record is kept). Figures from batch losses "
        "(levels, noise, slopes) are the same statistics on this sample: their standard error is up to {factor} times "
        "(the square root of {k}) that of the whole log, and a spike of a single batch is seen with a chance of 1 in {k} "
        "(docs/performance.md, Explain)"
    ),
    "error.bad_format": "unknown log format {value!r}; allowed: {allowed}",
    "error.unknown_format": "cannot tell which kind of log {path} is; pass --format with one of: {allowed}",
    "error.log_unreadable": "cannot read {path}: {detail}",
    "warn.runlog_write_failed": "lossdoc: cannot write the run log {path} ({detail}); logging stops, training goes on",
    "warn.hf_callback_failed": "lossdoc: the Trainer callback failed ({detail}); training goes on",
    "warn.lightning_callback_failed": "lossdoc: the Lightning callback failed ({detail}); training goes on",
    "error.runlog_exists": (
        "lossdoc: {path} already holds a run log; pass overwrite=True to replace it or resume=True to continue it "
        "(a second run into the same folder would be read as one run)"
    ),
    "warn.runlog_steps_backwards": (
        "lossdoc: step {step} was logged after step {last} in {path}: steps went backwards, as when a second run writes "
        "into the same log; explain reads the latest record of each step"
    ),
}

ZH = {
    "warn.torn_last_line": "最后一行（第 {line} 行）不完整，通常是训练在写入时被强行终止；已忽略该行",
    "warn.corrupt_lines": "跳过了 {count} 行损坏的记录，第一处在第 {first} 行",
    "warn.missing_fields": "跳过了 {count} 条缺少必要字段的记录",
    "warn.batches_sampled": (
        "日志共有 {total} 条批次记录，超过 lossdoc 一次能容纳的数量：每 {k} 条读取 1 条（保留 {kept} 条，"
        "第一条、最后一条以及所有非有限（NaN 或无穷大）的损失都保留；所有评估、事件和结束记录均完整保留）。由批次损失得出的数值"
        "（水平、噪声、斜率）是在这份样本上计算的同一统计量：其标准误差最多是完整日志的 {factor} 倍（即 {k} 的平方根），"
        "只出现在单个批次上的尖峰被采到的概率为 {k} 分之一（见 docs/performance.md 的 Explain 一节）"
    ),
    "error.bad_format": "未知的日志格式 {value!r}；可选：{allowed}",
    "error.unknown_format": "无法判断 {path} 是哪种日志；请用 --format 指定以下之一：{allowed}",
    "error.log_unreadable": "无法读取 {path}：{detail}",
    "warn.runlog_write_failed": "lossdoc：无法写入运行日志 {path}（{detail}）；日志记录已停止，训练继续进行",
    "warn.hf_callback_failed": "lossdoc：Trainer 回调出错（{detail}）；训练继续进行",
    "warn.lightning_callback_failed": "lossdoc：Lightning 回调出错（{detail}）；训练继续进行",
    "error.runlog_exists": "lossdoc：{path} 中已有运行日志；如需覆盖请传 overwrite=True，如需继续请传 resume=True（同一目录中的第二次训练会被当成同一次训练来读）",
    "warn.runlog_steps_backwards": "lossdoc：{path} 中在第 {last} 步之后记录了第 {step} 步：步数倒退了，通常是第二次训练写进了同一份日志；explain 对每一步只读最新的记录",
}
