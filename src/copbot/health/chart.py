"""A small PNG chart of weekly trends, written with zlib and struct only (no plotting dependency)."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from itertools import pairwise

Color = tuple[int, int, int]
WHITE: Color = (255, 255, 255)
GRID: Color = (225, 228, 232)
AXIS: Color = (90, 96, 105)
SERIES_COLORS: tuple[Color, ...] = ((29, 53, 87), (230, 126, 34), (42, 157, 143))  # navy, orange, teal
LEGEND = "bars: contributions (navy); lines: contributors (orange) and attendances (teal)"


class Canvas:
    """An RGB raster with the few drawing operations a chart needs."""

    def __init__(self, width: int, height: int, background: Color = WHITE):
        self.width, self.height = width, height
        self.pixels = bytearray(bytes(background) * (width * height))

    def dot(self, x: int, y: int, color: Color) -> None:
        """Paint one pixel; points outside the canvas are ignored."""
        if 0 <= x < self.width and 0 <= y < self.height:
            i = (y * self.width + x) * 3
            self.pixels[i : i + 3] = bytes(color)

    def rect(self, x0: int, y0: int, x1: int, y1: int, color: Color) -> None:
        """Fill the rectangle with corners (x0, y0) and (x1, y1), inclusive."""
        for y in range(max(0, min(y0, y1)), min(self.height, max(y0, y1) + 1)):
            for x in range(max(0, min(x0, x1)), min(self.width, max(x0, x1) + 1)):
                self.dot(x, y, color)

    def line(self, x0: int, y0: int, x1: int, y1: int, color: Color, width: int = 2) -> None:
        """Draw a line (Bresenham), `width` pixels thick."""
        dx, dy = abs(x1 - x0), -abs(y1 - y0)
        sx, sy = (1 if x0 < x1 else -1), (1 if y0 < y1 else -1)
        err = dx + dy
        while True:
            self.rect(x0, y0, x0 + width - 1, y0 + width - 1, color)
            if x0 == x1 and y0 == y1:
                return
            e2 = 2 * err
            if e2 >= dy:
                err, x0 = err + dy, x0 + sx
            if e2 <= dx:
                err, y0 = err + dx, y0 + sy

    def png(self) -> bytes:
        """Encode as PNG: 8-bit RGB, no filtering, zlib-compressed."""
        stride = self.width * 3
        raw = b"".join(
            b"\x00" + bytes(self.pixels[y * stride : (y + 1) * stride]) for y in range(self.height)
        )
        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)
        return (
            b"\x89PNG\r\n\x1a\n"
            + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(raw, 9))
            + _chunk(b"IEND", b"")
        )


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def weekly_chart(bars: Sequence[int], *lines: Sequence[int], width: int = 640, height: int = 240) -> bytes:
    """A PNG with one bar per week for `bars` and a line per extra series, all on one scale."""
    canvas = Canvas(width, height)
    left, right, top, bottom = 16, width - 16, 16, height - 20
    peak = max([1, *bars, *(v for series in lines for v in series)])
    for step in range(1, 5):  # horizontal grid at quarters of the peak
        y = bottom - (bottom - top) * step // 4
        canvas.rect(left, y, right, y, GRID)
    count = max(1, len(bars))
    slot = (right - left) // count

    def y_of(value: int) -> int:
        return bottom - round((bottom - top) * value / peak)

    for i, value in enumerate(bars):
        x0 = left + i * slot + slot // 5
        canvas.rect(x0, y_of(value), x0 + slot * 3 // 5, bottom, SERIES_COLORS[0])
    for series, color in zip(lines, SERIES_COLORS[1:], strict=False):
        points = [(left + i * slot + slot // 2, y_of(v)) for i, v in enumerate(series)]
        for (x0, y0), (x1, y1) in pairwise(points):
            canvas.line(x0, y0, x1, y1, color)
        for x, y in points:
            canvas.rect(x - 2, y - 2, x + 2, y + 2, color)
    canvas.rect(left, bottom, right, bottom + 1, AXIS)
    canvas.rect(left, top, left + 1, bottom, AXIS)
    return canvas.png()
