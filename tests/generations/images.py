"""Image files for the upload tests: real photos' traits (EXIF orientation, GPS, XMP,
ICC profiles, alpha) and the bad inputs (decompression bombs, truncated files, SVG...)."""

import io
import struct
import zlib

from PIL import Image, ImageCms

RED = (220, 30, 30)
BLUE = (30, 30, 220)
GPS_IFD = 0x8825
ORIENTATION = 0x0112
MAKE = 0x010F


def two_colour(size: tuple[int, int] = (40, 20), mode: str = "RGB") -> Image.Image:
    """Left half red, right half blue: where the halves end up shows the rotation."""
    image = Image.new(mode, size, RED if mode == "RGB" else (*RED, 255))
    image.paste(BLUE if mode == "RGB" else (*BLUE, 128), (size[0] // 2, 0, size[0], size[1]))
    return image


def pixel(image: Image.Image, xy: tuple[int, int]) -> tuple[int, ...]:
    """A pixel's channels (Pillow types getpixel for every mode at once)."""
    value = image.getpixel(xy)
    assert isinstance(value, tuple), value
    return value


def near(colour: tuple[int, ...], expected: tuple[int, int, int]) -> bool:
    """Close enough after JPEG's losses."""
    return all(abs(a - b) < 40 for a, b in zip(colour[:3], expected, strict=True))


def srgb_icc() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def camera_exif(*, orientation: int = 1) -> bytes:
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[MAKE] = "NanoCam"
    exif[GPS_IFD] = {1: "N", 2: (55.0, 45.0, 21.0), 3: "E", 4: (37.0, 37.0, 4.0)}
    return exif.tobytes()


def jpeg_bytes(
    size: tuple[int, int] = (40, 20), *, orientation: int = 1, metadata: bool = True, quality: int = 95
) -> bytes:
    """A photo as a phone writes it: EXIF with camera and GPS position, XMP, an ICC profile."""
    buffer = io.BytesIO()
    extra = {}
    if metadata:
        extra = {
            "exif": camera_exif(orientation=orientation),
            "icc_profile": srgb_icc(),
            "xmp": b'<x:xmpmeta xmlns:x="adobe:ns:meta/">secret place</x:xmpmeta>',
        }
    two_colour(size).save(buffer, format="JPEG", quality=quality, **extra)
    return buffer.getvalue()


def png_bytes(size: tuple[int, int] = (40, 20), *, alpha: bool = False, orientation: int = 1) -> bytes:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "taken at home")
    buffer = io.BytesIO()
    two_colour(size, mode="RGBA" if alpha else "RGB").save(
        buffer, format="PNG", pnginfo=info, icc_profile=srgb_icc(), exif=camera_exif(orientation=orientation)
    )
    return buffer.getvalue()


def webp_bytes(size: tuple[int, int] = (40, 20)) -> bytes:
    buffer = io.BytesIO()
    two_colour(size).save(buffer, format="WEBP", quality=90, exif=camera_exif())
    return buffer.getvalue()


def webp_declaring(width: int, height: int) -> bytes:
    """A WebP (extended format) whose header declares a `width` x `height` canvas."""
    vp8x = bytes([0, 0, 0, 0]) + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    body = b"WEBP" + b"VP8X" + struct.pack("<I", len(vp8x)) + vp8x
    return b"RIFF" + struct.pack("<I", len(body)) + body


def gif_bytes() -> bytes:
    buffer = io.BytesIO()
    two_colour().save(buffer, format="GIF")
    return buffer.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A valid PNG signature and header declaring `width` x `height`, with almost no
    pixel data: what a decompression bomb looks like before it is decoded."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
            + chunk(b"IEND", b""))


def jpeg_declaring(width: int, height: int) -> bytes:
    """A small real JPEG whose frame header (SOF0) is patched to declare another size."""
    data = bytearray(jpeg_bytes((16, 16), metadata=False))
    at = data.index(b"\xff\xc0")
    struct.pack_into(">HH", data, at + 5, height, width)
    return bytes(data)


def noise_jpeg_bytes(size: tuple[int, int], *, quality: int = 95) -> bytes:
    """A JPEG that does not compress: random pixels (for size limits and benchmarks)."""
    import random

    generator = random.Random(size[0] * 7919 + size[1])
    buffer = io.BytesIO()
    Image.frombytes("RGB", size, generator.randbytes(size[0] * size[1] * 3)).save(
        buffer, format="JPEG", quality=quality
    )
    return buffer.getvalue()


def truncated(data: bytes) -> bytes:
    return data[: len(data) // 2]


SVG = (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
       b"<script>alert(1)</script></svg>")
HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
