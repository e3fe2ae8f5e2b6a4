"""Distributed training (torchrun, `lossdoc train --nproc`): its errors and console lines."""

EN = {
    "error.nccl_unavailable": "backend nccl cannot run here: no CUDA device (or no NCCL in this torch build); use --backend auto (nccl on CUDA, gloo on the CPU) or gloo",
    "error.nccl_needs_cuda": "backend nccl needs CUDA tensors and the device is {device}; use --backend auto or gloo, or --device cuda",
    "error.gloo_unavailable": "backend gloo is not in this torch build; use --backend auto or nccl (on CUDA)",
    "error.world_not_dividing": "world size {world} does not divide the {rows} training sequences: every rank must take the same "
    "number of rows at each step; use a world size that divides {rows} ({allowed}, ...) or change --num-samples",
    "error.dist_env": "torchrun's environment is incomplete or wrong ({detail}); start the run with torchrun --nproc-per-node N -m lossdoc train or lossdoc train --nproc N",
    "error.dist_init": "cannot join the {backend} process group at {addr}:{port}: {detail}; use a free port (torchrun --master-port, or let lossdoc train --nproc pick one)",
    "error.resume_world_size": "cannot resume {path} with {world} process(es): it was trained with {saved}; resume it with --nproc {saved} (or torchrun --nproc-per-node {saved})",
    "error.port_busy": "port {port} on {addr} is already in use, so torchrun cannot start its rendezvous there; pass a free --master-port or leave it out and lossdoc picks one",
    "error.nproc_inside_torchrun": "--nproc launches torchrun, and this process is already one of torchrun's workers; leave --nproc out under torchrun",
    "error.nproc_devices": "--nproc {nproc} needs {nproc} GPUs with the nccl backend and this machine has {gpus}; use --nproc {gpus} or --backend gloo",
    "error.torchrun_failed": "torchrun exited with code {code}: {detail}",
    "train.resume_hint_nproc": "Continue with: lossdoc train --nproc {world} --resume {path}",
    "train.event.rank_lost": (
        "Rank {lost} of {world} was lost at step {step} ({detail}): killed, out of memory or crashed; the run ends as failed. "
        "checkpoints/last.pt holds the last epoch end: lossdoc train --nproc {world} --resume {path}"
    ),
    "train.event.rank_lost_unknown": (
        "A rank other than this one ({world} in all) was lost at step {step} ({detail}): killed, out of memory or crashed; "
        "the run ends as failed. checkpoints/last.pt holds the last epoch end: lossdoc train --nproc {world} --resume {path}"
    ),
    "train.rank_killed": "rank {rank} of {world} was killed by {signal} (out of memory, or kill -9) before it could end the run log; checkpoints/last.pt holds the last epoch end",
    "train.distributed": "Distributed: {world} processes ({backend}), {per_rank} sequences per rank, global batch {global_batch}",
}

ZH = {
    "error.nccl_unavailable": "后端 nccl 无法在本机运行：没有 CUDA 设备（或当前 torch 不含 NCCL）；请用 --backend auto（CUDA 上用 nccl，CPU 上用 gloo）或 gloo",
    "error.nccl_needs_cuda": "后端 nccl 需要 CUDA 张量，而当前设备是 {device}；请用 --backend auto 或 gloo，或 --device cuda",
    "error.gloo_unavailable": "当前 torch 不含 gloo 后端；请用 --backend auto 或 nccl（在 CUDA 上）",
    "error.world_not_dividing": "进程数 {world} 不能整除 {rows} 条训练序列：每一步每个进程必须分到同样多的序列；"
    "请用能整除 {rows} 的进程数（{allowed} 等），或修改 --num-samples",
    "error.dist_env": "torchrun 的环境变量不完整或有误（{detail}）；请用 torchrun --nproc-per-node N -m lossdoc train 或 lossdoc train --nproc N 启动",
    "error.dist_init": "无法加入 {backend} 进程组（{addr}:{port}）：{detail}；请使用空闲端口（torchrun --master-port，或让 lossdoc train --nproc 自动选择）",
    "error.resume_world_size": "无法用 {world} 个进程续训 {path}：它是用 {saved} 个进程训练的；请用 --nproc {saved}（或 torchrun --nproc-per-node {saved}）续训",
    "error.port_busy": "{addr} 上的端口 {port} 已被占用，torchrun 无法在此建立会合点；请指定空闲的 --master-port，或不指定，由 lossdoc 自动选择",
    "error.nproc_inside_torchrun": "--nproc 会启动 torchrun，而本进程已经是 torchrun 的工作进程；在 torchrun 下请去掉 --nproc",
    "error.nproc_devices": "--nproc {nproc} 配合 nccl 后端需要 {nproc} 块 GPU，本机只有 {gpus} 块；请用 --nproc {gpus} 或 --backend gloo",
    "error.torchrun_failed": "torchrun 以退出码 {code} 结束：{detail}",
    "train.resume_hint_nproc": "继续训练：lossdoc train --nproc {world} --resume {path}",
    "train.event.rank_lost": (
        "{world} 个进程中的第 {lost} 号进程在第 {step} 步丢失（{detail}）：被终止、内存不足或崩溃；本次训练以失败结束。"
        "checkpoints/last.pt 保存了最近一轮结束时的状态：lossdoc train --nproc {world} --resume {path}"
    ),
    "train.event.rank_lost_unknown": (
        "{world} 个进程中的另一个进程在第 {step} 步丢失（{detail}）：被终止、内存不足或崩溃；本次训练以失败结束。"
        "checkpoints/last.pt 保存了最近一轮结束时的状态：lossdoc train --nproc {world} --resume {path}"
    ),
    "train.rank_killed": "{world} 个进程中的第 {rank} 号进程被 {signal} 终止（内存不足或 kill -9），来不及写完运行日志；checkpoints/last.pt 保存了最近一轮结束时的状态",
    "train.distributed": "分布式训练：{world} 个进程（{backend}），每个进程 {per_rank} 条序列，全局批量 {global_batch}",
}
