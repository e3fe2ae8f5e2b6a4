"""Chinese output without English leftovers (issue 24): run status, label convention, the logits' origin, the HTML table."""

import io
import re
from types import SimpleNamespace

from rich.console import Console

from lossdoc.analysis import diagnose
from lossdoc.analysis.model import Finding
from lossdoc.render.check import finding_sentence as check_sentence
from lossdoc.render.check import model_line
from lossdoc.render.diagnosis import render_diagnosis
from lossdoc.runlog.readers import read_run

# words that stay in Latin letters in the Chinese text: names, units, flags, symbols
ALLOWED = {"NaN", "Inf", "dropout", "logits", "token", "lossdoc", "jsonl", "run", "ln", "id", "AdamW", "epoch"}


def test_explain_details_in_chinese_has_no_english_words_outside_names(tiny_run):
    run = read_run(tiny_run)
    d = diagnose(run)
    for details in (True, False):
        buf = io.StringIO()
        render_diagnosis(Console(file=buf, width=100, color_system=None), d, run, "zh", details=details)
        text = buf.getvalue().replace(run.source, "")
        text = re.sub(r"--[\w-]+|lossdoc (train|explain)[^\n，。；）]*", "", text)  # flags and commands are names
        words = set(re.findall(r"[A-Za-z][A-Za-z_\-]{2,}", text)) - ALLOWED
        assert not words, words
    buf = io.StringIO()
    render_diagnosis(Console(file=buf, width=100, color_system=None), d, run, "zh", details=True)
    assert "已完成" in buf.getvalue() and "completed" not in buf.getvalue()


def test_check_labels_and_logits_origin_in_chinese():
    f = Finding(
        "labels",
        "pass",
        "chk.labels.ok",
        {"k": 64, "steps": 30, "random_loss": 4.2, "floor": 4.1589, "repeat_start": 5.0, "repeat_loss": 1.0, "repeat_steps": 20, "labels": "shifted"},
    )
    zh = check_sentence(f, "zh")
    assert "shifted" not in zh and "右移一位" in zh
    assert "Labels: shifted" in check_sentence(f, "en")
    report = SimpleNamespace(kind="lossdoc", params=10, trainable=10, vocab_size=64, batch_size=4, seq_len=16, device="cpu", output="tensor")
    assert "tensor" not in model_line(report, "zh") and "返回的张量" in model_line(report, "zh")
    report.output = "tuple[0]"
    assert model_line(report, "zh").endswith("tuple[0]")  # a named place in the model's output stays as it is


def test_html_report_keeps_the_status_column_on_one_line(tiny_run):
    from lossdoc.render.charts import chart_data
    from lossdoc.render.html import html_report

    run = read_run(tiny_run)
    d = diagnose(run)
    page = html_report(run, d, chart_data(run, d), "zh")
    assert "td.nw{white-space:nowrap}" in page
    import html

    body = re.sub(r"<style.*?</style>|<script.*?</script>", "", page, flags=re.S)
    body = html.unescape(re.sub(r"<[^>]+>", " ", body)).replace(run.source, "")
    words = set(re.findall(r"[A-Za-z][A-Za-z_\-]{2,}", body)) - ALLOWED - {"nats"}  # nats: the unit, as the charts write it
    assert not words, words
    cells = re.findall(r'<td class="s-\w+ nw">([^<]*)</td>', page)
    assert len(cells) == len(d.findings) and "正常" in cells
