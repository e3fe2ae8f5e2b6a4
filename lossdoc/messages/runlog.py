"""Reading logs: warnings the readers tolerate, and their errors."""

EN = {
    "warn.torn_last_line": "the last line ({line}) is incomplete, as when a run is killed mid-write; it was ignored",
    "warn.corrupt_lines": "{count} corrupt line(s) skipped, the first at line {first}",
    "warn.missing_fields": "{count} record(s) without the required fields skipped",
    "error.bad_format": "unknown log format {value!r}; allowed: {allowed}",
    "error.unknown_format": "cannot tell which kind of log {path} is; pass --format with one of: {allowed}",
    "error.log_unreadable": "cannot read {path}: {detail}",
    "warn.runlog_write_failed": "lossdoc: cannot write the run log {path} ({detail}); logging stops, training goes on",
    "warn.hf_callback_failed": "lossdoc: the Trainer callback failed ({detail}); training goes on",
    "warn.lightning_callback_failed": "lossdoc: the Lightning callback failed ({detail}); training goes on",
}

ZH = {
    "warn.torn_last_line": "最后一行（第 {line} 行）不完整，通常是训练在写入时被强行终止；已忽略该行",
    "warn.corrupt_lines": "跳过了 {count} 行损坏的记录，第一处在第 {first} 行",
    "warn.missing_fields": "跳过了 {count} 条缺少必要字段的记录",
    "error.bad_format": "未知的日志格式 {value!r}；可选：{allowed}",
    "error.unknown_format": "无法判断 {path} 是哪种日志；请用 --format 指定以下之一：{allowed}",
    "error.log_unreadable": "无法读取 {path}：{detail}",
    "warn.runlog_write_failed": "lossdoc：无法写入运行日志 {path}（{detail}）；日志记录已停止，训练继续进行",
    "warn.hf_callback_failed": "lossdoc：Trainer 回调出错（{detail}）；训练继续进行",
    "warn.lightning_callback_failed": "lossdoc：Lightning 回调出错（{detail}）；训练继续进行",
}
