"""`lossdoc train` console text."""

EN = {
    "train.start": "Training a {params}-parameter Transformer (d_model {d_model}, {layers} layers, {heads} heads) on {kind} data, V = {vocab}, device {device}",
    "train.progress": "training",
    "train.live_loss": "loss {loss}",
    "train.init": "Epoch 0 (before any update): val loss {val}, train loss {train}",
    "train.epoch": "Epoch {epoch}/{epochs}: train loss {train}, val loss {val}, best val loss {best}; saved {saved}",
    "train.event.resumed": "Resumed: {message}",
    "train.event.interrupted": "Interrupted: {message}",
    "train.event.nonfinite_loss": "Non-finite loss: {message}",
    "train.event.nonfinite_grad": "Non-finite gradient: {message}",
    "train.saved": "Run saved in {path} (run.jsonl, config.yaml, checkpoints/)",
    "train.summary_floor_dummy": "Best val loss {best} vs the data's floor ln({vocab} - 1) = {floor}: {excess} nats ({pct}%) above it",
    "train.summary_floor": "Best val loss {best} vs the exact entropy floor of the {kind} data, {floor}: {excess} nats ({pct}%) above it",
    "train.resume_hint": "Continue with: lossdoc train --resume {path}",
}

ZH = {
    "train.start": "开始训练：{params} 个参数的 Transformer（d_model {d_model}，{layers} 层，{heads} 个注意力头），数据 {kind}，词表 V = {vocab}，设备 {device}",
    "train.progress": "训练中",
    "train.live_loss": "损失 {loss}",
    "train.init": "第 0 轮（尚未更新参数）：验证损失 {val}，训练损失 {train}",
    "train.epoch": "第 {epoch}/{epochs} 轮：训练损失 {train}，验证损失 {val}，最佳验证损失 {best}；已保存 {saved}",
    "train.event.resumed": "已续训：{message}",
    "train.event.interrupted": "已中断：{message}",
    "train.event.nonfinite_loss": "损失出现非有限值：{message}",
    "train.event.nonfinite_grad": "梯度出现非有限值：{message}",
    "train.saved": "结果保存在 {path}（run.jsonl、config.yaml、checkpoints/）",
    "train.summary_floor_dummy": "最佳验证损失 {best}，数据的理论下限 ln({vocab} - 1) = {floor}：高出 {excess} 奈特（{pct}%）",
    "train.summary_floor": "最佳验证损失 {best}，{kind} 数据的精确熵下限为 {floor}：高出 {excess} 奈特（{pct}%）",
    "train.resume_hint": "继续训练：lossdoc train --resume {path}",
}
