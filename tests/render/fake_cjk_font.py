"""A tiny TrueType font with real (distinct) glyphs for a few Chinese characters and the digits, built
with fontTools (a matplotlib dependency), so that the CJK font choice is tested without a system font."""

from __future__ import annotations

from pathlib import Path

FAMILY = "Lossdoc Test CJK"


def build(path: Path, chars: str) -> Path:
    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.ttGlyphPen import TTGlyphPen

    chars = "".join(dict.fromkeys(chars))
    names = [".notdef"] + [f"g{ord(c):04X}" for c in chars]
    fb = FontBuilder(1000, isTTF=True)
    fb.setupGlyphOrder(names)
    fb.setupCharacterMap({ord(c): f"g{ord(c):04X}" for c in chars})
    glyphs = {}
    for i, name in enumerate(names):
        pen = TTGlyphPen(None)
        w = 100 + 7 * i  # a different outline for each glyph
        pen.moveTo((50, 0))
        pen.lineTo((50, 700))
        pen.lineTo((50 + w, 700))
        pen.lineTo((50 + w, 0))
        pen.closePath()
        glyphs[name] = pen.glyph()
    fb.setupGlyf(glyphs)
    fb.setupHorizontalMetrics({n: (1000, 50) for n in names})
    fb.setupHorizontalHeader(ascent=880, descent=-120)
    fb.setupNameTable({"familyName": FAMILY, "styleName": "Regular"})
    fb.setupOS2(sTypoAscender=880, sTypoDescender=-120, usWinAscent=880, usWinDescent=120)
    fb.setupPost()
    fb.save(str(path))
    return path
