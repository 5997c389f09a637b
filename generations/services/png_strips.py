"""A large PNG decoded and shrunk strip by strip, so that its full bitmap is never in memory.

Pillow decodes a PNG only whole: a 40-megapixel one takes 160 MB before it can be
shrunk. Here the compressed pixel data (IDAT) is inflated as a stream; every few hundred
rows become a small PNG of their own that Pillow decodes, which is then reduced by an
integer factor (box averaging: block-local, so strips give exactly the pixels a whole
reduce would) and pasted into the result. PNG filters refer to the row above, so each
strip's small PNG starts with the previous strip's last row, unfiltered; that row is
dropped after decoding.

Only the common large PNG takes this path: 8-bit RGB or RGBA, not interlaced, without
a transparent colour key (tRNS). Anything else (`None`) is decoded whole by the caller.
"""

import io
import math
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from PIL import Image

SIGNATURE = b"\x89PNG\r\n\x1a\n"
CHANNELS = {2: ("RGB", 3), 6: ("RGBA", 4)}  # PNG colour type -> (mode, bytes per pixel)
STRIP_ROWS = 256
READ_CHUNK = 256 * 1024
MAX_CHUNK = 1 << 31


@dataclass(frozen=True)
class Shrunk:
    image: Image.Image  # at most `longest` on its longer side, the PNG's mode
    icc_profile: bytes | None
    exif: bytes | None


class DamagedPng(ValueError):
    """The PNG's structure or pixel data is broken or incomplete."""


def png_shrink(source: IO[bytes], *, longest: int) -> Shrunk | None:
    """The PNG in `source` reduced (integer factor) to at least `longest` on its longer
    side, without decoding it whole; None when it is not a PNG this path takes."""
    source.seek(0)
    if source.read(8) != SIGNATURE:
        return None
    length, kind = _chunk_head(source)
    if kind != b"IHDR" or length != 13:
        raise DamagedPng("no IHDR")
    width, height, depth, colour, _compression, _filter, interlace = struct.unpack(">IIBBBBB", source.read(13))
    source.read(4)  # CRC
    if depth != 8 or colour not in CHANNELS or interlace or width == 0 or height == 0:
        return None
    mode, bpp = CHANNELS[colour]
    factor = max(1, max(width, height) // longest)
    stride = 1 + width * bpp
    strip = factor * math.ceil(STRIP_ROWS / factor)  # whole blocks of the reduce in every strip
    result = Image.new(mode, (math.ceil(width / factor), math.ceil(height / factor)))
    state = _Strips(result=result, width=width, height=height, colour=colour, mode=mode, stride=stride,
                    strip=strip, factor=factor)
    icc_profile = exif = None
    for kind, data in _chunks(source):
        if kind == b"tRNS":
            return None
        if kind == b"iCCP":
            icc_profile = _icc(data)
        elif kind == b"eXIf":
            exif = bytes(data)
        elif kind == b"IDAT":
            state.feed(data)
        elif kind == b"IEND":
            break
    state.feed(b"")
    if state.row != height:
        raise DamagedPng(f"{state.row} of {height} rows")
    return Shrunk(image=result, icc_profile=icc_profile, exif=exif)


@dataclass
class _Strips:
    """The inflated rows waiting for a strip, and where the next strip goes."""

    result: Image.Image
    width: int
    height: int
    colour: int
    mode: str
    stride: int
    strip: int
    factor: int
    row: int = 0
    previous: bytes | None = None  # the last row of the previous strip, unfiltered

    def __post_init__(self) -> None:
        self.inflater = zlib.decompressobj()
        self.pending = bytearray()

    def feed(self, compressed: bytes) -> None:
        """Inflate `compressed` (b"": what the inflater still holds) a strip at a time:
        a small PNG can inflate to hundreds of megabytes, so output is bounded."""
        while True:
            want = max(self.stride, self.strip * self.stride - len(self.pending))
            try:
                out = self.inflater.decompress(compressed, want)
            except zlib.error as exc:
                raise DamagedPng(str(exc)) from None
            compressed = self.inflater.unconsumed_tail
            self.pending += out
            self._drain()
            if not compressed and len(out) < want:
                return

    def _drain(self) -> None:
        while True:
            available = len(self.pending) // self.stride
            left = self.height - self.row
            rows = min(self.strip, left)
            if left <= 0 or available < rows:
                return
            raw = bytes(self.pending[: rows * self.stride])
            del self.pending[: rows * self.stride]
            self.previous = _strip_decode(self.result, raw, rows, self.width, self.colour, self.mode, self.previous,
                                          self.row, self.factor)
            self.row += rows


def _strip_decode(result: Image.Image, raw: bytes, rows: int, width: int, colour: int, mode: str,
                  previous: bytes | None, row: int, factor: int) -> bytes:
    """Decode `rows` filtered rows (after the unfiltered `previous` one), reduce them and
    paste them at their place; return the strip's last row, unfiltered."""
    lead = b"" if previous is None else b"\x00" + previous
    height = rows + (previous is not None)
    small = (SIGNATURE + _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0))
             + _chunk(b"IDAT", zlib.compress(lead + raw, 0)) + _chunk(b"IEND", b""))
    try:
        with Image.open(io.BytesIO(small), formats=["PNG"]) as decoded:
            decoded.load()
            pixels = decoded.crop((0, height - rows, width, height)) if previous is not None else decoded.copy()
    except (OSError, SyntaxError, ValueError) as exc:
        raise DamagedPng(f"rows from {row}: {exc}") from None
    if pixels.mode != mode:
        raise DamagedPng(f"strip decoded as {pixels.mode}")
    last = pixels.crop((0, rows - 1, width, rows)).tobytes()
    reduced = pixels.reduce(factor) if factor > 1 else pixels
    result.paste(reduced, (0, row // factor))
    return last


def _chunk_head(source: IO[bytes]) -> tuple[int, bytes]:
    head = source.read(8)
    if len(head) < 8:
        raise DamagedPng("truncated")
    length, kind = struct.unpack(">I4s", head)
    if length >= MAX_CHUNK:
        raise DamagedPng("chunk too long")
    return length, kind


def _chunks(source: IO[bytes]) -> Iterator[tuple[bytes, bytes]]:
    """Every chunk after IHDR as (kind, data); IDAT in pieces of at most READ_CHUNK bytes."""
    while True:
        length, kind = _chunk_head(source)
        if kind == b"IDAT":
            left = length
            while left:
                piece = source.read(min(left, READ_CHUNK))
                if not piece:
                    raise DamagedPng("truncated IDAT")
                left -= len(piece)
                yield kind, piece
        else:
            data = source.read(length)
            if len(data) < length:
                raise DamagedPng("truncated chunk")
            yield kind, data
        if len(source.read(4)) < 4:  # CRC
            raise DamagedPng("truncated CRC")
        if kind == b"IEND":
            return


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _icc(data: bytes) -> bytes | None:
    """The profile of an iCCP chunk: a name, NUL, the compression method (0), zlib data."""
    _name, _, rest = data.partition(b"\x00")
    try:
        return zlib.decompress(rest[1:]) if rest[:1] == b"\x00" else None
    except zlib.error:
        return None
