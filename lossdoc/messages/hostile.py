"""Hostile input (issue #18): special files, size caps, the last-resort error, numbers a log got wrong."""

EN = {
    "error.internal": "unexpected {kind} while reading {path}: {detail}; this is a bug in lossdoc (run again with LOSSDOC_DEBUG=1 to see where)",
    "error.internal_nopath": "unexpected {kind}: {detail}; this is a bug in lossdoc (run again with LOSSDOC_DEBUG=1 to see where)",
    "error.out_of_memory": "ran out of memory while reading {path}",
    "error.not_regular": "{path} is not a regular file ({kind}); lossdoc reads only regular files and folders",
    "error.log_too_big": "{path} is {size_mb} MB; lossdoc reads logs up to {limit_mb} MB",
    "error.flag_range": "{flag} {value} is out of range: {allowed}",
    "warn.header_out_of_range": "the log's {field} ({value}) is out of range and was ignored",
    "warn.nonfinite_tokens": "{count} token count(s) that were negative or not finite were ignored",
    "warn.folder_too_deep": "folders deeper than {limit} levels below {path} were not searched",
    "warn.folder_too_many": "only the first {limit} entries below {path} were searched",
    "warn.tb_huge_records": "{count} record(s) longer than {limit_mb} MB in {file} were skipped",
    "kind.fifo": "a named pipe",
    "kind.char": "a character device",
    "kind.block": "a block device",
    "kind.socket": "a socket",
    "kind.other": "not a file",
}

ZH = {
    "error.internal": "读取 {path} 时发生意外的 {kind}：{detail}；这是 lossdoc 的缺陷（设置 LOSSDOC_DEBUG=1 重新运行可查看出错位置）",
    "error.internal_nopath": "发生意外的 {kind}：{detail}；这是 lossdoc 的缺陷（设置 LOSSDOC_DEBUG=1 重新运行可查看出错位置）",
    "error.out_of_memory": "读取 {path} 时内存不足",
    "error.not_regular": "{path} 不是普通文件（而是{kind}）；lossdoc 只读取普通文件和目录",
    "error.log_too_big": "{path} 有 {size_mb} MB；lossdoc 只读取不超过 {limit_mb} MB 的日志",
    "error.flag_range": "{flag} {value} 超出范围：{allowed}",
    "warn.header_out_of_range": "日志中的 {field}（{value}）超出合理范围，已忽略",
    "warn.nonfinite_tokens": "忽略了 {count} 个为负数或非有限值的词元计数",
    "warn.folder_too_deep": "{path} 下超过 {limit} 层的子目录未被搜索",
    "warn.folder_too_many": "{path} 下只搜索了前 {limit} 个条目",
    "warn.tb_huge_records": "{file} 中有 {count} 条超过 {limit_mb} MB 的记录被跳过",
    "kind.fifo": "命名管道",
    "kind.char": "字符设备",
    "kind.block": "块设备",
    "kind.socket": "套接字",
    "kind.other": "非文件对象",
}
