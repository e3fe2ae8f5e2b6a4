"""Reading classes of the twenty-sixth held-out set (docs/accuracy.md), each a test that fails before its change."""

from __future__ import annotations

from lossdoc.analysis import diagnose
from lossdoc.runlog.readers import read_run

BASELINES = """# llm-base: fine-tuning
Baselines for fine-tuning common LLM models

|  model    | pre-trained weights | fine-tuning method / dataset | duration, iters, cost* | train/val loss | eval accuracy |
| ------------ | ------------ | ------------ | ------------ | ------------ | ------------ |
| falcon-7b   | tiiuae / RefinedWeb  | Lora, alpaca 52k instruction | 117 min, 50k,   $2-$4 | 3.6/8.8 | ~ |
"""


def test_a_table_cell_holding_two_losses_under_a_header_naming_both_is_a_page_of_final_figures(tmp_path):
    # class: a README's table of baselines, its column "train/val loss" holding "3.6/8.8": refused as no log ("cannot
    # tell which kind of log"); it is a page of final figures, inconclusive, with both values shown
    (tmp_path / "README.md").write_text(BASELINES, encoding="utf-8")
    run = read_run(tmp_path / "README.md")
    values = {v["name"]: v["value"] for v in run.config["values"]}
    assert values == {"falcon-7b train loss": 3.6, "falcon-7b val loss": 8.8}
    assert diagnose(run).verdict == "inconclusive"


def test_a_slash_pair_cell_whose_count_differs_from_the_header_is_not_read(tmp_path):
    # three numbers under a header that names two losses: no guess at which is which
    (tmp_path / "README.md").write_text(BASELINES.replace("3.6/8.8", "3.6/8.8/2.0") + "\nval loss: 2.5\n", encoding="utf-8")
    values = {v["name"]: v["value"] for v in read_run(tmp_path / "README.md").config["values"]}
    assert values == {"val loss": 2.5}


def test_only_two_phases_losses_make_a_pair():
    from lossdoc.runlog.readers.values import _loss_names

    assert _loss_names("Train/Valid Loss") == ["Train Loss", "Valid Loss"]
    assert _loss_names("训练损失/验证损失") == ["train loss", "val loss"]
    assert _loss_names("BLEU/val loss") == [] and _loss_names("loss/val loss") == []
