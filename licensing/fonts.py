"""The CJK TrueType font every licence is set in, registered with ReportLab once per process.

ReportLab's built-in CID fonts (STSong-Light) are never embedded, and it cannot embed CFF-based
OpenType (Noto CJK), so the licence uses a TrueType font: Debian's fonts-wqy-microhei by default
(settings.CJK_FONT_PATH, a .ttc collection: CJK_FONT_SUBFONT_INDEX picks the face). ReportLab
embeds only the glyphs used (subset). Loading the face takes ~120 ms, hence the cache.
"""

from __future__ import annotations

import threading
from pathlib import Path

from django.conf import settings
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont


class FontMissingError(RuntimeError):
    """The configured CJK font cannot be used."""


_lock = threading.Lock()
_registered: dict[tuple[str, int], str] = {}


def cjk_font_name() -> str:
    """The ReportLab name of the configured CJK font, registering it on first use."""
    key = (str(settings.CJK_FONT_PATH), int(settings.CJK_FONT_SUBFONT_INDEX))
    name = _registered.get(key)
    if name is not None:
        return name
    with _lock:
        if key not in _registered:
            path, index = key
            if not Path(path).is_file():
                raise FontMissingError(
                    f"CJK font {path} (CJK_FONT_PATH) does not exist; install Debian's fonts-wqy-microhei "
                    "or point CJK_FONT_PATH at a TrueType (not CFF/OTF) CJK font"
                )
            name = f"LicenceCJK{len(_registered)}"
            try:
                pdfmetrics.registerFont(TTFont(name, path, subfontIndex=index))
            except (TTFError, OSError, IndexError) as exc:
                raise FontMissingError(f"cannot use {path} face {index} as an embedded TrueType font: {exc}") from exc
            _registered[key] = name
        return _registered[key]
