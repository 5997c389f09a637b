"""Helpers of the Mini App's browser tests: small pictures made with Pillow, as files a
page's file input takes."""

import io
import random
from typing import Any

from PIL import Image, ImageDraw


def picture(size: tuple[int, int] = (320, 240), colour: tuple[int, int, int] = (200, 40, 40), *,
            fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format=fmt)
    return buffer.getvalue()


def scene(size: tuple[int, int], top: tuple[int, int, int], bottom: tuple[int, int, int]) -> bytes:
    """A PNG that looks a little like a photo: a sky-to-ground gradient and a sun."""
    width, height = size
    gradient = Image.linear_gradient("L").resize(size)
    image = Image.composite(Image.new("RGB", size, bottom), Image.new("RGB", size, top), gradient)
    radius = min(size) // 7
    ImageDraw.Draw(image).ellipse((width * 0.65 - radius, height * 0.3 - radius, width * 0.65 + radius,
                                   height * 0.3 + radius), fill=(255, 236, 170))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def noise_jpeg(size: tuple[int, int]) -> bytes:
    """A JPEG that does not compress (random pixels): about 3 bytes a pixel."""
    buffer = io.BytesIO()
    pixels = random.Random(size[0] * 31 + size[1]).randbytes(size[0] * size[1] * 3)
    Image.frombytes("RGB", size, pixels).save(buffer, format="JPEG", quality=95)
    return buffer.getvalue()


def file_payload(name: str, data: bytes, mime_type: str = "image/jpeg") -> dict[str, Any]:
    """A file as Playwright's set_input_files takes it."""
    return {"name": name, "mimeType": mime_type, "buffer": data}
