"""The marks on a licence page: the QR code, the round seal, the diagonal watermarks and the
status banner (已注销, 仅供…用于…). Drawn straight onto a ReportLab canvas by `licensing.rendering`.
"""

from __future__ import annotations

import math
import re

import segno
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen import canvas

PAGE_W, PAGE_H = A4  # a licence is one A4 page
SEAL_RED = colors.HexColor("#c8161d")
QR_MASK = 4


def draw_qr(c: canvas.Canvas, data: str, x: float, y: float, size: float) -> None:
    # A fixed mask: segno's search for the lowest-penalty mask evaluates all eight in pure
    # Python (6 ms, a third of the page). Any mask is valid for decoders, and the short,
    # random-looking check URL does not produce the long runs the penalty rules guard against
    # (the tests scan every rendition with zbarimg).
    qr = segno.make(data, error="m", micro=False, mask=QR_MASK)
    matrix = [list(row) for row in qr.matrix]
    n = len(matrix)
    quiet = 4  # the quiet zone scanners need, in modules, drawn white
    module = size / (n + 2 * quiet)
    c.saveState()
    c.setFillColor(colors.white)
    c.rect(x, y, size, size, stroke=0, fill=1)
    c.setFillColor(colors.black)
    path = c.beginPath()
    for r, row in enumerate(matrix):
        col = 0
        while col < n:
            if row[col]:
                start = col
                while col < n and row[col]:
                    col += 1
                path.rect(
                    x + (quiet + start) * module, y + size - (quiet + r + 1) * module, (col - start) * module, module
                )
            else:
                col += 1
    c.drawPath(path, stroke=0, fill=1)
    c.restoreState()


def draw_seal(c: canvas.Canvas, font: str, text: str, *, cx: float, cy: float, radius: float) -> None:
    """A round official seal: the seal name along the upper arc, a star in the middle."""
    c.saveState()
    c.setStrokeColor(SEAL_RED)
    c.setFillColor(SEAL_RED)
    c.setStrokeAlpha(0.85)
    c.setFillAlpha(0.85)
    c.setLineWidth(2.4)
    c.circle(cx, cy, radius)
    _draw_star(c, cx, cy, radius * 0.28)
    chars = list(text)
    span = min(270.0, 20.0 * len(chars))  # degrees of arc the name occupies
    size = min(13.0, (2 * math.pi * (radius - 12) * span / 360) / max(len(chars), 1) * 0.9)
    c.setFont(font, size)
    step = span / max(len(chars) - 1, 1)
    start = 90 + span / 2
    for i, ch in enumerate(chars):
        angle = math.radians(start - i * step)
        c.saveState()
        c.translate(cx + (radius - 7 - size) * math.cos(angle), cy + (radius - 7 - size) * math.sin(angle))
        c.rotate(math.degrees(angle) - 90)
        c.drawCentredString(0, 0, ch)
        c.restoreState()
    c.restoreState()


def _draw_star(c: canvas.Canvas, cx: float, cy: float, r: float) -> None:
    path = c.beginPath()
    for i in range(10):
        radius = r if i % 2 == 0 else r * 0.4
        angle = math.radians(90 + i * 36)
        x, y = cx + radius * math.cos(angle), cy + radius * math.sin(angle)
        if i == 0:
            path.moveTo(x, y)
        else:
            path.lineTo(x, y)
    path.close()
    c.drawPath(path, stroke=0, fill=1)


def draw_watermark(c: canvas.Canvas, text: str, font: str, *, offset: float = 0) -> None:
    diagonal = math.hypot(PAGE_W, PAGE_H)
    lines = _wrap_watermark(text, font)
    widest = max(pdfmetrics.stringWidth(line, font, 1) for line in lines)
    size = max(18.0, min(96.0, diagonal * 0.7 / widest))
    c.saveState()
    c.setFillColor(SEAL_RED)
    c.setFillAlpha(0.28)
    c.setFont(font, size)
    c.translate(PAGE_W / 2, PAGE_H / 2)
    c.rotate(math.degrees(math.atan2(PAGE_H, PAGE_W)))
    for i, line in enumerate(lines):
        c.drawCentredString(0, offset - size * 0.35 - (i - (len(lines) - 1) / 2) * size * 1.3, line)
    c.restoreState()


def draw_banner(c: canvas.Canvas, text: str, font: str, *, margin: float) -> None:
    size = min(10.0, (PAGE_W - 2 * margin) / pdfmetrics.stringWidth(text, font, 1))
    c.saveState()
    c.setFillColor(SEAL_RED)
    c.setFont(font, size)
    c.drawCentredString(PAGE_W / 2, PAGE_H - 46, text)
    c.restoreState()


def _wrap_watermark(text: str, font: str) -> list[str]:
    """One line for short marks (已注销); long annotated-copy texts break at punctuation."""
    if pdfmetrics.stringWidth(text, font, 1) * 30 <= math.hypot(PAGE_W, PAGE_H) * 0.8 or len(text) < 12:
        return [text]
    parts = [p for p in re.split(r"(?<=[，,；;。])", text) if p]
    if len(parts) == 1:
        half = len(text) // 2
        parts = [text[:half], text[half:]]
    return parts
