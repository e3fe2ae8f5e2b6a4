"""The readers of scale-out frameworks (Megatron-LM, torchtitan, litgpt, fairseq, DeepSpeed, OLMo, Composer, MLflow,
W&B) and many runs in one `explain`."""

EN = {
    "warn.ranks_one_read": "several ranks wrote to this log: only rank {rank}'s lines are read ({count} loss line(s) of other ranks skipped)",
    "warn.loss_base2": "the log gives losses in bits (base 2, as fairseq does): they were multiplied by ln 2 = {factor} into nats",
    "warn.loss_scale_collapse": "the fp16 loss scale fell to {scale} (at step {step}): gradients overflowed even at the smallest scale, so updates were skipped",
    "warn.scale_facts": "the log also says: {facts}",
    "where.batch_times_seq": "global batch {batch} × sequence length {seq} (lines {lines})",
    "error.megatron_no_lines": "{path} holds no Megatron-LM loss lines: expected 'iteration 100/ 5000 | ... | lm loss: 7.123E+00 |' or 'validation loss at iteration 100 | lm loss value: ...'",
    "error.torchtitan_no_lines": "{path} holds no torchtitan loss lines: expected 'step: 10  loss:  9.8765  memory: ...' or 'validate step: 100  loss: ...'",
    "error.litgpt_no_lines": "{path} holds no litgpt loss lines: expected 'Epoch 1 | iter 100 step 25 | loss train: 3.200, val: n/a | ...', 'iter 100 step 25: loss 3.2000, iter time: ...' or 'iter 100: val loss 3.1234, ...'",
    "error.fairseq_no_lines": "{path} holds no fairseq loss lines: expected 'epoch 001:    100 / 1557 loss=10.5, ..., num_updates=100', '| epoch 001 | loss 9.23 | ...' or '[train][INFO] - {{\"epoch\": 1, \"train_loss\": ...}}'",
    "error.deepspeed_no_lines": "{path} holds no DeepSpeed loss lines: expected '[Rank 0] step=10, skipped=0, lr=[...], loss=7.12' (DeepSpeed's own step line carries no loss: print it there or on a line with the step)",
    "error.olmo_no_lines": "{path} holds no OLMo loss lines: expected '[step=10/1000]' followed by 'train/CrossEntropyLoss=10.73'",
    "error.composer_no_lines": "{path} holds no Composer loss lines: expected '[batch=10/100]:' followed by 'Train loss/train/total: 7.12'",
    "error.mlflow_no_loss": "{path} is an MLflow run without a loss metric lossdoc knows; its metrics are: {metrics}",
    "error.mlflow_no_loss_values": "{path} is an MLflow run whose loss metrics hold no values",
    # many runs in one explain
    "many.title": "{count} runs, worst first",
    "many.col.run": "run",
    "many.col.verdict": "verdict",
    "many.col.best": "best loss",
    "many.col.gap": "above floor",
    "many.col.deciding": "deciding finding",
    "many.unreadable": "unreadable",
    "many.counts": "Verdicts: {counts}",
    "many.count_item": "{verdict} {n}",
}

ZH = {
    "warn.ranks_one_read": "多个 rank 写入了这份日志：只读取 rank {rank} 的行（跳过了其他 rank 的 {count} 行损失）",
    "warn.loss_base2": "日志中的损失以比特为单位（以 2 为底，fairseq 就是这样）：已乘以 ln 2 = {factor} 换算为奈特",
    "warn.loss_scale_collapse": "fp16 损失缩放系数降到了 {scale}（第 {step} 步）：即使在最小的缩放下梯度仍然溢出，因此这些更新被跳过",
    "warn.scale_facts": "日志还给出了：{facts}",
    "where.batch_times_seq": "全局批大小 {batch} × 序列长度 {seq}（第 {lines} 行）",
    "error.megatron_no_lines": "{path} 中没有 Megatron-LM 的损失行：应包含 'iteration 100/ 5000 | ... | lm loss: 7.123E+00 |' 或 'validation loss at iteration 100 | lm loss value: ...'",
    "error.torchtitan_no_lines": "{path} 中没有 torchtitan 的损失行：应包含 'step: 10  loss:  9.8765  memory: ...' 或 'validate step: 100  loss: ...'",
    "error.litgpt_no_lines": "{path} 中没有 litgpt 的损失行：应包含 'Epoch 1 | iter 100 step 25 | loss train: 3.200, val: n/a | ...'、'iter 100 step 25: loss 3.2000, iter time: ...' 或 'iter 100: val loss 3.1234, ...'",
    "error.fairseq_no_lines": "{path} 中没有 fairseq 的损失行：应包含 'epoch 001:    100 / 1557 loss=10.5, ..., num_updates=100'、'| epoch 001 | loss 9.23 | ...' 或 '[train][INFO] - {{\"epoch\": 1, \"train_loss\": ...}}'",
    "error.deepspeed_no_lines": "{path} 中没有 DeepSpeed 的损失行：应包含 '[Rank 0] step=10, skipped=0, lr=[...], loss=7.12'（DeepSpeed 自己的 step 行不带损失：请把损失打印在这一行，或打印在带步数的行上）",
    "error.olmo_no_lines": "{path} 中没有 OLMo 的损失行：应包含 '[step=10/1000]'，其后是 'train/CrossEntropyLoss=10.73'",
    "error.composer_no_lines": "{path} 中没有 Composer 的损失行：应包含 '[batch=10/100]:'，其后是 'Train loss/train/total: 7.12'",
    "error.mlflow_no_loss": "{path} 是一个 MLflow 运行，但没有 lossdoc 认识的损失指标；它的指标有：{metrics}",
    "error.mlflow_no_loss_values": "{path} 是一个 MLflow 运行，但其损失指标中没有数值",
    "many.title": "{count} 个运行，最差的在前",
    "many.col.run": "运行",
    "many.col.verdict": "结论",
    "many.col.best": "最佳损失",
    "many.col.gap": "高于下限",
    "many.col.deciding": "决定结论的检查",
    "many.unreadable": "无法读取",
    "many.counts": "结论统计：{counts}",
    "many.count_item": "{verdict} {n}",
}
EN["many.crashed"] = "lossdoc could not read it: {detail}"
ZH["many.crashed"] = "lossdoc 无法读取它：{detail}"
EN["error.many_no_charts"] = "--plot and --report draw one run: with {count} runs, leave them out (or name one run)"
ZH["error.many_no_charts"] = "--plot 和 --report 只绘制一个运行：现在有 {count} 个运行，请去掉它们（或只指定一个运行）"
EN["error.many_unreadable"] = "{count} of {total} runs could not be read: their rows above say why"
ZH["error.many_unreadable"] = "{total} 个运行中有 {count} 个无法读取：上面各自的行说明了原因"
