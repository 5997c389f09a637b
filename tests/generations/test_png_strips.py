"""A large PNG shrunk strip by strip gives exactly the pixels of a whole decode reduced
the same way, reads its ICC profile and orientation, and refuses a damaged file."""

import io
import random
import struct
import zlib

import pytest
from PIL import Image, ImageCms, PngImagePlugin

from generations.services.png_strips import DamagedPng, png_shrink


def png(size: tuple[int, int], mode: str, **save: object) -> bytes:
    generator = random.Random(size[0] + size[1])
    image = Image.frombytes(mode, size, generator.randbytes(size[0] * size[1] * len(mode)))
    image = Image.blend(image, Image.linear_gradient("L").resize(size).convert(mode), 0.6)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", **save)
    return buffer.getvalue()


@pytest.mark.parametrize(("size", "mode", "longest"), [
    ((3000, 1000), "RGB", 512),  # factor 5: strips of 260 rows, a partial last strip
    ((1100, 2100), "RGBA", 700),  # factor 3, taller than wide
    ((900, 700), "RGB", 899),  # factor 1: decoded strip by strip, not reduced
])
def test_strips_give_the_pixels_of_a_whole_decode(size, mode, longest):
    data = png(size, mode)
    shrunk = png_shrink(io.BytesIO(data), longest=longest)
    assert shrunk is not None
    with Image.open(io.BytesIO(data)) as whole:
        factor = max(1, max(size) // longest)
        expected = whole.reduce(factor) if factor > 1 else whole.copy()
    assert shrunk.image.mode == mode and shrunk.image.size == expected.size
    assert shrunk.image.tobytes() == expected.tobytes()


def test_a_tiny_file_that_inflates_to_a_huge_bitmap_is_read_a_strip_at_a_time():
    buffer = io.BytesIO()
    Image.new("RGB", (6000, 4000), (240, 240, 250)).save(buffer, format="PNG")
    assert buffer.tell() < 200_000  # 72 MB of pixels in a few kilobytes
    shrunk = png_shrink(io.BytesIO(buffer.getvalue()), longest=2048)
    assert shrunk is not None and shrunk.image.size == (3000, 2000)
    assert shrunk.image.getpixel((1500, 1000)) == (240, 240, 250)


def test_the_icc_profile_and_the_orientation_are_read():
    exif = Image.Exif()
    exif[0x0112] = 6
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = png((400, 200), "RGB", icc_profile=icc, exif=exif.tobytes())
    shrunk = png_shrink(io.BytesIO(data), longest=100)
    assert shrunk is not None
    assert shrunk.icc_profile == icc
    assert shrunk.exif is not None
    read = Image.Exif()
    read.load(shrunk.exif)
    assert read[0x0112] == 6


@pytest.mark.parametrize("kind", ["palette", "grey", "16-bit", "interlaced", "colour key"])
def test_other_pngs_are_left_to_the_whole_decode(kind):
    image = Image.new("RGB", (300, 200), (10, 200, 30))
    buffer = io.BytesIO()
    if kind == "palette":
        image.convert("P").save(buffer, format="PNG")
    elif kind == "grey":
        image.convert("L").save(buffer, format="PNG")
    elif kind == "16-bit":
        image.convert("I;16").save(buffer, format="PNG")
    elif kind == "interlaced":
        image.save(buffer, format="PNG")
    else:
        image.save(buffer, format="PNG", transparency=(10, 200, 30))
    data = buffer.getvalue()
    if kind == "interlaced":
        # Pillow writes no interlaced PNG: say so in the header (Adam7), the CRC along.
        header = bytearray(data[12:29])
        header[-1] = 1
        data = data[:12] + bytes(header) + struct.pack(">I", zlib.crc32(bytes(header)) & 0xFFFFFFFF) + data[33:]
    assert png_shrink(io.BytesIO(data), longest=100) is None


def test_not_a_png_is_left_alone():
    assert png_shrink(io.BytesIO(b"\xff\xd8\xff\xe0 a jpeg"), longest=100) is None


@pytest.mark.parametrize("cut", [0.3, 0.7, 0.99])
def test_a_truncated_png_is_damaged(cut):
    data = png((1200, 900), "RGB")
    with pytest.raises(DamagedPng):
        png_shrink(io.BytesIO(data[: int(len(data) * cut)]), longest=300)


def test_corrupt_pixel_data_is_damaged():
    data = bytearray(png((1200, 900), "RGB", pnginfo=PngImagePlugin.PngInfo()))
    at = data.index(b"IDAT") + 200
    data[at: at + 64] = bytes(64)
    with pytest.raises(DamagedPng):
        png_shrink(io.BytesIO(bytes(data)), longest=300)
