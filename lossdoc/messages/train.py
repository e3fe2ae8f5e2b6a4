"""`lossdoc train` console text."""

EN = {
    "train.start": "Training a {params}-parameter Transformer (d_model {d_model}, {layers}, {heads}) on {kind} data, V = {vocab}, device {device}{threads}",
    "train.cpu_threads.one": ", {n} CPU thread",
    "train.cpu_threads.many": ", {n} CPU threads",
    "train.threads_auto": "{threads} (auto: {cpus} cores, load average {load})",
    "train.threads_auto_procs": "{threads} (auto: {cpus} cores, load average {load}, {procs} processes)",
    "train.threads_auto_noload": "{threads} (auto: {cpus} cores)",
    "train.threads_auto_noload_procs": "{threads} (auto: {cpus} cores, {procs} processes)",
    "train.threads_set": "{threads} (--threads)",
    "train.threads_resumed": "{threads} (as the run started with; --threads changes it)",
    "train.layers.one": "{n} layer",
    "train.layers.many": "{n} layers",
    "train.heads.one": "{n} head",
    "train.heads.many": "{n} heads",
    "train.progress": "training",
    "train.live_loss": "loss {loss}",
    "train.progress_line": "step {step}/{total} ({pct}%), epoch {epoch}, loss {loss}{rate}, {elapsed} elapsed, about {eta} left",
    "train.rate": ", {rate} tokens/s",
    "train.init": "Epoch 0 (before any update): val loss {val}, train loss {train}",
    "train.epoch": "Epoch {epoch}/{epochs}: train loss {train}, val loss {val}, best val loss {best}; saved {saved}",
    "train.event.resumed": "Resumed from checkpoints/last.pt after {epoch} epochs and {batch} batches (step {step})",
    "train.event.interrupted": "Interrupted at epoch {epoch}, batch {batch} (step {step}); checkpoints/last.pt holds the run so far",
    "train.event.aborted": "Stopped by a second Ctrl-C at step {step}; the last complete checkpoint is kept",
    "train.event.nonfinite_loss": "Non-finite loss {value} at epoch {epoch}, batch {batch} (step {step})",
    "train.event.nonfinite_val": "Non-finite validation loss {value} after epoch {epoch}",
    "train.event.nonfinite_grad": "Non-finite gradient norm {value} at step {step}: update skipped",
    "train.event.other": "{kind}: {message}",
    "train.event.stopped": "Stopped by --stop-on {stop_on} at step {step}: the verdict is {verdict} (failing checks: {findings}); checkpoints/best.pt is kept",
    "train.event.stopped_plateau": (
        "Stopped by --stop-on plateau at step {step}: the verdict is {verdict} at each of the last {patience} evaluation(s), nothing "
        "left to learn beyond the noise; {steps_saved} of {planned_steps} planned steps not run; checkpoints/best.pt is kept"
    ),
    "train.event.stopped_evidence": (
        "Stopped by --stop-on {stop_on} at step {step}: the verdict is {verdict} (failing checks: {findings}); the evidence "
        "began at step {evidence_step}: checkpoints/{checkpoint} (step {checkpoint_step}) is the last checkpoint taken before it; "
        "renamed as taken after it: {moved}"
    ),
    "train.event.stopped_no_checkpoint": (
        "Stopped by --stop-on {stop_on} at step {step}: the verdict is {verdict} (failing checks: {findings}); the evidence "
        "began at step {evidence_step}, before any checkpoint was taken: no checkpoint holds sound weights; renamed as taken after it: {moved}"
    ),
    "train.event.compile_unavailable.no-torch-compile": "Warning: --compile needs torch.compile, which this torch lacks; training without it",
    "train.event.compile_unavailable.no-cxx": "Warning: --compile needs a C++ compiler on the CPU (g++, c++ or clang++ on PATH, or $CXX); training without torch.compile",
    "train.event.compile_unavailable.no-triton": "Warning: --compile needs Triton on CUDA (pip install triton); training without torch.compile",
    "train.saved": "Run saved in {path} (run.jsonl, config.yaml, checkpoints/)",
    "train.summary_floor_dummy": "Best val loss {best} vs the data's floor ln({vocab} - 1) = {floor}: {excess} nats ({pct}%) above it",
    "train.summary_floor": "Best val loss {best} vs the exact entropy floor of the {kind} data, {floor}: {excess} nats ({pct}%) above it",
    "train.summary_floor_dummy_below": "Best val loss {best} vs the data's floor ln({vocab} - 1) = {floor}: {excess} nats ({pct}%) below it",
    "train.summary_floor_below": "Best val loss {best} vs the exact entropy floor of the {kind} data, {floor}: {excess} nats ({pct}%) below it",
    "train.resume_hint": "Continue with: lossdoc train --resume {path}",
}

ZH = {
    "train.start": "开始训练：{params} 个参数的 Transformer（d_model {d_model}，{layers}，{heads}），数据 {kind}，词表 V = {vocab}，设备 {device}{threads}",
    "train.cpu_threads.one": "，{n} 个 CPU 线程",
    "train.cpu_threads.many": "，{n} 个 CPU 线程",
    "train.threads_auto": "{threads}（自动选择：{cpus} 个核，1 分钟平均负载 {load}）",
    "train.threads_auto_procs": "{threads}（自动选择：{cpus} 个核，1 分钟平均负载 {load}，{procs} 个进程）",
    "train.threads_auto_noload": "{threads}（自动选择：{cpus} 个核）",
    "train.threads_auto_noload_procs": "{threads}（自动选择：{cpus} 个核，{procs} 个进程）",
    "train.threads_set": "{threads}（由 --threads 指定）",
    "train.threads_resumed": "{threads}（沿用本次训练开始时的设置；可用 --threads 更改）",
    "train.layers.one": "{n} 层",
    "train.layers.many": "{n} 层",
    "train.heads.one": "{n} 个注意力头",
    "train.heads.many": "{n} 个注意力头",
    "train.progress": "训练中",
    "train.live_loss": "损失 {loss}",
    "train.progress_line": "第 {step}/{total} 步（{pct}%），第 {epoch} 轮，损失 {loss}{rate}，已用时 {elapsed}，预计还需约 {eta}",
    "train.rate": "，每秒 {rate} 个 token",
    "train.init": "第 0 轮（尚未更新参数）：验证损失 {val}，训练损失 {train}",
    "train.epoch": "第 {epoch}/{epochs} 轮：训练损失 {train}，验证损失 {val}，最佳验证损失 {best}；已保存 {saved}",
    "train.event.resumed": "已从 checkpoints/last.pt 续训：此前已完成 {epoch} 轮又 {batch} 批（第 {step} 步）",
    "train.event.interrupted": "已在第 {epoch} 轮第 {batch} 批（第 {step} 步）中断；目前的训练状态保存在 checkpoints/last.pt",
    "train.event.aborted": "第二次 Ctrl-C，已在第 {step} 步停止；保留最后一个完整的检查点",
    "train.event.nonfinite_loss": "损失出现非有限值 {value}：第 {epoch} 轮第 {batch} 批（第 {step} 步）",
    "train.event.nonfinite_val": "验证损失出现非有限值 {value}：第 {epoch} 轮之后",
    "train.event.nonfinite_grad": "梯度范数出现非有限值 {value}：第 {step} 步，本次更新已跳过",
    "train.event.other": "事件 {kind}：{message}",
    "train.event.stopped": "--stop-on {stop_on} 在第 {step} 步停止了训练：结论为{verdict}（未通过的检查：{findings}）；checkpoints/best.pt 已保留",
    "train.event.stopped_plateau": (
        "--stop-on plateau 在第 {step} 步停止了训练：连续 {patience} 次评估的结论均为{verdict}，超出噪声的部分已无可再学；"
        "计划的 {planned_steps} 步中省下了 {steps_saved} 步未跑；checkpoints/best.pt 已保留"
    ),
    "train.event.stopped_evidence": (
        "--stop-on {stop_on} 在第 {step} 步停止了训练：结论为{verdict}（未通过的检查：{findings}）；问题的迹象从第 {evidence_step} 步开始："
        "checkpoints/{checkpoint}（第 {checkpoint_step} 步）是在此之前保存的最后一个检查点；因保存于其后而改名的：{moved}"
    ),
    "train.event.stopped_no_checkpoint": (
        "--stop-on {stop_on} 在第 {step} 步停止了训练：结论为{verdict}（未通过的检查：{findings}）；问题的迹象从第 {evidence_step} 步开始，"
        "早于任何检查点：没有一个检查点保存的是正常的权重；因保存于其后而改名的：{moved}"
    ),
    "train.event.compile_unavailable.no-torch-compile": "警告：--compile 需要 torch.compile，而当前的 torch 没有；本次训练不编译",
    "train.event.compile_unavailable.no-cxx": "警告：--compile 在 CPU 上需要 C++ 编译器（PATH 中的 g++、c++ 或 clang++，或 $CXX）；本次训练不使用 torch.compile",
    "train.event.compile_unavailable.no-triton": "警告：--compile 在 CUDA 上需要 Triton（pip install triton）；本次训练不使用 torch.compile",
    "train.saved": "结果保存在 {path}（run.jsonl、config.yaml、checkpoints/）",
    "train.summary_floor_dummy": "最佳验证损失 {best}，数据的理论下限 ln({vocab} - 1) = {floor}：高出 {excess} 奈特（{pct}%）",
    "train.summary_floor": "最佳验证损失 {best}，{kind} 数据的精确熵下限为 {floor}：高出 {excess} 奈特（{pct}%）",
    "train.summary_floor_dummy_below": "最佳验证损失 {best}，数据的理论下限 ln({vocab} - 1) = {floor}：比下限低 {excess} 奈特（{pct}%）",
    "train.summary_floor_below": "最佳验证损失 {best}，{kind} 数据的精确熵下限为 {floor}：比下限低 {excess} 奈特（{pct}%）",
    "train.resume_hint": "继续训练：lossdoc train --resume {path}",
}
