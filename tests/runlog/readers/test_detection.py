"""Format detection, folder inputs, --format, and malformed files (one clear error each)."""

from __future__ import annotations

import pytest

from lossdoc.errors import LossdocError
from lossdoc.i18n import catalogs, t
from lossdoc.runlog.readers import READERS, formats, read_run

CASES = [
    ("seed_console/seed_zh.txt", "seed-console"),
    ("seed_console/seed_en.txt", "seed-console"),
    ("seed_console/seed_zh_gb18030.txt", "seed-console"),
    ("seed_console/seed_zh_utf16.txt", "seed-console"),
    ("seed_console/seed_messy.txt", "seed-console"),
    ("hf_trainer/counting_healthy/trainer_state.json", "hf-trainer"),
    ("hf_trainer/counting_healthy", "hf-trainer"),
    ("hf_trainer/counting_healthy/checkpoint-64", "hf-trainer"),
    ("lightning_csv/counting_healthy/lightning_logs/version_0/metrics.csv", "lightning-csv"),
    ("lightning_csv/counting_healthy/lightning_logs/version_0", "lightning-csv"),
    ("lightning_csv/counting_healthy", "lightning-csv"),
    ("tensorboard/counting_healthy", "tensorboard"),
    ("tensorboard/keras_layout", "tensorboard"),
    ("tensorboard/counting_healthy/events.out.tfevents.1700000000.fixture.0", "tensorboard"),
    ("nanogpt/counting_healthy.log", "nanogpt"),
    ("generic/counting_healthy.csv", "csv"),
    ("generic/keras_epochs.csv", "csv"),
]


def test_registry_order():
    assert formats()[0] == "lossdoc"
    assert set(formats()) == {
        "lossdoc",
        "hf-trainer",
        "tensorboard",
        "lightning-csv",
        "markdown",
        "nanogpt",
        "seed-console",
        "numbers",
        "csv",
        "jsonl",
        "json",
        "console",
    } | {
        "mlflow",
        "wandb",
        "megatron",
        "deepspeed",
        "torchtitan",
        "litgpt",
        "fairseq",
        "olmo",
        "composer",
    } | {"values"}  # issue 26; a page of loss values, the last try (issue 23)
    assert formats()[-1] == "values"
    assert len(READERS) == len(set(formats()))


@pytest.mark.parametrize("rel,fmt", CASES)
def test_detects_each_fixture(fix, rel, fmt):
    run = read_run(fix / rel)
    assert run.format == fmt


@pytest.mark.parametrize("rel,fmt", CASES)
def test_forced_format_reads_the_same(fix, rel, fmt):
    p = fix / rel
    if p.is_dir():
        return
    assert read_run(p, fmt=fmt).format == fmt


MALFORMED = [
    ("empty.txt", None, "error.log_empty"),
    ("binary.bin", None, "error.log_binary"),
    ("seed_no_numbers.txt", None, "error.seed_no_lines"),
    ("trainer_state.json", None, "error.json_invalid"),
    ("not_trainer_state.json", "hf-trainer", "error.hf_not_state"),
    ("metrics.csv", None, "error.no_loss_columns"),
    ("events.out.tfevents.1700000000.bad.0", None, "error.tb_corrupt"),
    ("nanogpt.log", None, "error.nanogpt_no_lines"),
    ("generic.jsonl", None, "error.jsonl_no_records"),
    ("generic.csv", None, "error.csv_bad"),
    # every text reader refuses binary input with the same one line
    ("binary.bin", "seed-console", "error.log_binary"),
    ("binary.bin", "nanogpt", "error.log_binary"),
    ("binary.bin", "csv", "error.log_binary"),
    ("binary.bin", "jsonl", "error.log_binary"),
    ("binary.bin", "lightning-csv", "error.log_binary"),
    ("binary.bin", "hf-trainer", "error.log_binary"),
    ("binary.bin", "tensorboard", "error.tb_corrupt"),
    ("empty.txt", "seed-console", "error.log_empty"),
    ("empty.txt", "nanogpt", "error.log_empty"),
    ("empty.txt", "csv", "error.log_empty"),
    ("empty.txt", "jsonl", "error.log_empty"),
]


@pytest.mark.parametrize("name,fmt,key", MALFORMED)
def test_malformed_files_give_one_clear_error(fix, name, fmt, key):
    path = fix / "malformed" / name
    with pytest.raises(LossdocError) as ei:
        read_run(path, fmt=fmt)
    assert ei.value.key == key
    for lang in ("en", "zh"):
        text = ei.value.render(lang)
        assert "\n" not in text and str(path) in text


def test_unknown_format_and_folder_without_logs(tmp_path):
    p = tmp_path / "notes.txt"
    p.write_text("hello\nworld\n")
    with pytest.raises(LossdocError) as ei:
        read_run(p)
    assert ei.value.key == "error.unknown_format"
    with pytest.raises(LossdocError) as ei:
        read_run(tmp_path)
    assert ei.value.key == "error.folder_no_log" and "trainer_state.json" in str(ei.value)
    with pytest.raises(LossdocError) as ei:
        read_run(tmp_path, fmt="lossdoc")
    assert ei.value.key == "error.log_no_metrics"
    with pytest.raises(LossdocError) as ei:
        read_run(p, fmt="comet")
    assert ei.value.key == "error.bad_format"


def test_reader_messages_exist_in_both_languages():
    import string

    from lossdoc.messages import readers as m

    assert m.EN.keys() == m.ZH.keys()
    for key in m.EN:
        fields = lambda s: sorted(f for _, f, _, _ in string.Formatter().parse(s) if f)  # noqa: E731
        assert fields(m.EN[key]) == fields(m.ZH[key]), key
    assert "error.folder_no_log" in catalogs()["zh"]
    assert t("error.flag_random_needs_vocab", "zh").startswith("--random")


def _explain_registered() -> bool:
    from lossdoc.cli import app

    return any((c.name or (c.callback.__name__ if c.callback else "")) == "explain" for c in app.registered_commands)


@pytest.mark.parametrize(
    "name",
    [
        "empty.txt",
        "binary.bin",
        "trainer_state.json",
        "metrics.csv",
        "events.out.tfevents.1700000000.bad.0",
        "nanogpt.log",
        "generic.jsonl",
        "seed_no_numbers.txt",
    ],
)
def test_explain_malformed_exits_2_with_one_line(fix, capsys, name):
    if not _explain_registered():
        pytest.skip("lossdoc explain is not registered yet")
    from lossdoc.cli import run

    code = run(["explain", str(fix / "malformed" / name), "--lang", "en"])
    captured = capsys.readouterr()
    assert code == 2
    assert len(captured.err.strip().splitlines()) == 1
    assert str(fix / "malformed" / name) in captured.err.replace("\n", "")
