"""lossdoc.data is numpy only, so `lossdoc baseline --data` can use it without torch."""

import subprocess
import sys
from pathlib import Path


def test_lossdoc_data_does_not_import_torch():
    code = (
        "import sys, lossdoc.data, lossdoc.data.corpus, lossdoc.data.sources, lossdoc.data.synthetic, lossdoc.data.tokenizers;"
        "sys.exit(1 if 'torch' in sys.modules else 0)"
    )
    root = Path(__file__).resolve().parents[2]
    assert subprocess.run([sys.executable, "-c", code], cwd=root).returncode == 0
