"""Reading logs people keep by hand: lists of numbers, logs pasted into Markdown, a Trainer state holding only its summary."""

EN = {
    "warn.numbers_steps": "{files}: a bare list of losses with no step numbers: the steps are their places in the list (value i is step i)",
    "warn.numbers_counter": "{files}: a list of losses, each after its {word} number: that number is read as its step",
    "warn.numbers_counter_bare": "{files}: a list of losses, each after a number and a colon: that number is read as its step",
    "warn.numbers_paired": (
        "{train_file} and {val_file} hold {n_train} values each: read as one evaluation per line with both losses "
        "(a per-epoch history), epoch i at step i"
    ),
    "warn.numbers_spread": (
        "{val_file} ({n_val} values) beside {train_file} ({n_train} values): the evaluations are spread evenly over "
        "the training steps, evaluation k at step round(k × {n_train} / {n_val})"
    ),
    "warn.numbers_partner_not_numbers": "{file}: {count} line(s) that are not numbers ignored, the first at line {first}",
    "warn.json_by_position": "rows of {k} numbers with no names: read by position as {columns} (the usual order of a kept loss history)",
    "warn.json_spread": "the validation list is shorter than the training list: its values are spread evenly over the training steps, value k at step round(k × last step / count)",
    "error.numbers_no_values": "{path} holds no loss values: expected one number per line (such as 2.3456 or 2.345600000000000000e+00), or one row of numbers",
    "error.numbers_rows": "{path} holds several rows of numbers (the second at line {line}): several runs side by side, not one list of losses",
    "warn.markdown_fence": "the log was read from the code block at lines {first}–{last} of {file}, as {fmt}",
    "warn.markdown_text": "the log was read from the page's own text (no code block holds one), lines {first}–{last} of {file}, as {fmt}",
    "warn.markdown_table": "the log was read from the table at lines {first}–{last} of {file}",
    "error.markdown_no_log": "{path} holds no log in a code block (```) or a table with a step or epoch column",
    "warn.markdown_other_blocks": "{count} other block(s) in {file} that look like a log were not read (the longest was)",
    "warn.hf_summary_only": (
        "log_history holds only the closing summary, no loss per step: train_loss {train_loss} is the mean over the whole "
        "run ({global_step} steps, {epoch} epochs), so there is no curve to judge; log with logging_steps of at most "
        "{global_step} (and an evaluation strategy) to see one"
    ),
    "warn.hf_results_only": (
        "{file} holds the Trainer's closing metrics (save_metrics), not its log: train_loss {train_loss} is the mean over "
        "the whole run and eval_loss {eval_loss} the last evaluation's; the curve is in trainer_state.json (in the output "
        "folder's checkpoints)"
    ),
    "warn.hf_results_train_only": (
        "{file} holds the Trainer's closing metrics (save_metrics), not its log: train_loss {train_loss} is the mean over "
        "the whole run; the curve is in trainer_state.json (in the output folder's checkpoints)"
    ),
    "warn.hf_results_eval_only": (
        "{file} holds the Trainer's closing metrics (save_metrics), not its log: eval_loss {eval_loss} is one evaluation's; "
        "the curve is in trainer_state.json (in the output folder's checkpoints)"
    ),
    "error.hf_nothing_logged": (
        "{path}: log_history is empty: the run took {global_step} step(s), fewer than logging_steps = {logging_steps}, "
        "so the Trainer logged no loss; set logging_steps to at most {global_step}"
    ),
    "warn.values_only": (
        "{file} holds {n} loss value(s) but no curve lossdoc can read (the loss at successive steps or epochs, as a "
        "training log has it): the first {k} (each with its line number): {shown}"
    ),
    "error.values_none": "{path} holds no loss values named as such (loss: 2.31, val loss = 2.40, perplexity 11.2)",
    "warn.bar_redraws": (
        "a progress bar's loss is set every {every} steps and drawn again between: {count} redraws of the same number are not read as records"
    ),
    "warn.several_series": (
        "{file} holds {n} series of losses side by side (one a line, or one a column), not one curve: the first {k}, "
        "each with its count of values, first and last: {shown}"
    ),
    "warn.values_train_val": "{file} holds one run's lists ({names}): {n} training and {m} validation losses, read in order, their positions as steps (the file gives none)",
    "warn.values_rows": "{file} holds {names} rows of losses, each going on from where the last ended: read as one run in order, their positions as steps (the file gives none)",
}

ZH = {
    "warn.numbers_steps": "{files}：只有一串损失值，没有步数：以它们在列表中的位置作为步数（第 i 个值即第 i 步）",
    "warn.numbers_counter": "{files}：一串损失值，每个值前面标有编号（日志里写作 {word}）：把这个编号当作它的步数",
    "warn.numbers_counter_bare": "{files}：一串损失值，每个值前面是一个编号和冒号：把这个编号当作它的步数",
    "warn.numbers_paired": "{train_file} 和 {val_file} 各有 {n_train} 个值：按每行一次评估读取，同时含训练和验证损失（按轮记录的历史），第 i 轮在第 i 步",
    "warn.numbers_spread": "{train_file}（{n_train} 个值）旁边的 {val_file}（{n_val} 个值）：评估均匀分布在训练步数上，第 k 次评估在第 round(k × {n_train} / {n_val}) 步",
    "warn.numbers_partner_not_numbers": "{file}：忽略了 {count} 行不是数字的内容，第一处在第 {first} 行",
    "warn.json_by_position": "每行 {k} 个数字、没有列名：按位置读作 {columns}（保存损失历史时的常见顺序）",
    "warn.json_spread": "验证列表比训练列表短：其值均匀分布在训练步数上，第 k 个值在第 round(k × 最后一步 / 个数) 步",
    "error.numbers_no_values": "{path} 中没有损失值：应每行一个数字（例如 2.3456 或 2.345600000000000000e+00），或一行数字",
    "error.numbers_rows": "{path} 有多行数字（第二行在第 {line} 行）：这是并排的几次运行，而不是一串损失值",
    "warn.markdown_fence": "日志读自 {file} 第 {first}–{last} 行的代码块，按 {fmt} 格式读取",
    "warn.markdown_text": "页面里没有代码块装着日志，日志读自 {file} 正文的第 {first}–{last} 行，按 {fmt} 格式读取",
    "warn.markdown_table": "日志读自 {file} 第 {first}–{last} 行的表格",
    "error.markdown_no_log": "{path} 的代码块（```）或带步数、轮数列的表格中没有日志",
    "warn.markdown_other_blocks": "{file} 中另有 {count} 个看起来像日志的块未被读取（读取的是最长的一个）",
    "warn.hf_summary_only": (
        "log_history 中只有训练结束时的汇总，没有每一步的损失：train_loss {train_loss} 是整个训练"
        "（{global_step} 步，{epoch} 轮）的平均值，因此没有曲线可供判断；请把 logging_steps 设为不超过 {global_step}"
        "（并开启评估）以记录曲线"
    ),
    "warn.hf_results_only": "{file} 是 Trainer 训练结束时保存的指标（save_metrics），不是训练日志：train_loss {train_loss} 是整个训练的平均值，eval_loss {eval_loss} 是最后一次评估的值；曲线在 trainer_state.json 中（位于输出目录的各个 checkpoint 里）",
    "warn.hf_results_train_only": "{file} 是 Trainer 训练结束时保存的指标（save_metrics），不是训练日志：train_loss {train_loss} 是整个训练的平均值；曲线在 trainer_state.json 中（位于输出目录的各个 checkpoint 里）",
    "warn.hf_results_eval_only": "{file} 是 Trainer 训练结束时保存的指标（save_metrics），不是训练日志：eval_loss {eval_loss} 只是一次评估的值；曲线在 trainer_state.json 中（位于输出目录的各个 checkpoint 里）",
    "error.hf_nothing_logged": "{path}：log_history 为空：训练只进行了 {global_step} 步，少于 logging_steps = {logging_steps}，因此 Trainer 没有记录任何损失；请把 logging_steps 设为不超过 {global_step}",
    "warn.values_only": (
        "{file} 中有 {n} 个损失数值，但没有 lossdoc 能读出的曲线（训练日志里按步或按轮记录的损失）：前 {k} 个（括号中为行号）：{shown}"
    ),
    "error.values_none": "{path} 中没有标明为损失的数值（例如 loss: 2.31、val loss = 2.40、perplexity 11.2）",
    "warn.bar_redraws": "进度条上的损失每 {every} 步才更新一次，其间只是重绘：{count} 次重绘的同一个数没有当作新记录读入",
    "warn.several_series": "{file} 中并列着 {n} 组损失序列（每行一组或每列一组），而不是一条曲线：前 {k} 组（括号中为数值个数，随后是首个值和末个值）：{shown}",
    "warn.values_train_val": "{file} 中是同一次训练的列表（{names}）：{n} 个训练损失和 {m} 个验证损失，按顺序读取，以位置作为步数（文件中没有步数）",
    "warn.values_rows": "{file} 中有 {names} 行损失，每行都接着上一行的末尾：按顺序作为同一次训练读取，以位置作为步数（文件中没有步数）",
}
