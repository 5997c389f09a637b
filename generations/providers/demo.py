"""The offline demo provider: real pictures of the prompt, drawn with Pillow.

It is the default when AIMLAPI_KEY is unset, so a local run and the tests produce
real files without any network. It behaves like the real providers do: an image is
synchronous (the call takes DEMO_PROVIDER_DELAY_SECONDS, as a provider's HTTP call
would), a video is a job that is ready DEMO_PROVIDER_DELAY_SECONDS after it was
created and is polled like an AIML API video job. The "video" is an animated GIF
(`image/gif`): every browser and Telegram (as an animation) play it, and it needs
no encoder beyond Pillow.

It uses its inputs as the real models do: with input images, an image is the first
of them with the prompt drawn over it (an "edit"), and a video slowly zooms into the
first image (an "animation"); `num_images` gives that many pictures, each a little
different.
"""

import hashlib
import io
import math
import random
import secrets
import time
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Self

from django.conf import settings
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont, ImageOps

from generations.failures import FailureCode
from generations.models import AIModel
from generations.providers.base import (
    GenerationRequest,
    InputImage,
    JobState,
    PermanentProviderError,
    Provider,
    ProviderResult,
)

# Output sizes by aspect ratio (the `aspect_ratio` parameter many models take).
IMAGE_SIZES = {"1:1": (1024, 1024), "16:9": (1344, 768), "9:16": (768, 1344), "4:3": (1152, 864),
               "3:4": (864, 1152), "3:2": (1216, 832), "2:3": (832, 1216), "21:9": (1536, 640)}
VIDEO_LONG_SIDE = 400
VIDEO_FRAMES = 20
VIDEO_FRAME_MS = 100
# An edit keeps the input's shape, at most this long on its longer side.
EDIT_LONG_SIDE = 1024
# How far the animation of a picture zooms in, over the whole clip.
ANIMATION_ZOOM = 0.18
MAX_RESULTS = 4

# Fonts with Cyrillic (prompts come in Russian too); Pillow's built-in font is the fallback.
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/TTF/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
    "/Library/Fonts/Arial Unicode.ttf",
    "C:/Windows/Fonts/arialbd.ttf",
)
JOB_PREFIX = "demo:"


class DemoProvider(Provider):
    name = "demo"

    def __init__(
        self,
        *,
        delay_seconds: float = 0.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.delay_seconds = max(0.0, delay_seconds)
        self._clock = clock
        self._sleep = sleep

    @classmethod
    def from_settings(cls) -> Self:
        # The image delay blocks the task, so it is capped well under the task
        # timeout (a system check warns about a larger setting).
        return cls(delay_seconds=min(settings.DEMO_PROVIDER_DELAY_SECONDS, settings.Q_TIMEOUT / 4))

    def submit(self, *, request: GenerationRequest) -> JobState:
        if request.kind == AIModel.Kind.IMAGE:
            if self.delay_seconds:
                self._sleep(self.delay_seconds)  # what a synchronous provider's HTTP call costs
            return JobState(results=tuple(
                ProviderResult(data=render_image(request, variant=variant), content_type="image/png")
                for variant in range(_result_count(request))
            ))
        if not self.delay_seconds:
            return JobState(results=(ProviderResult(data=render_animation(request), content_type="image/gif"),))
        ready_at = self._clock() + self.delay_seconds
        return JobState(job_id=f"{JOB_PREFIX}{ready_at:.3f}:{secrets.token_hex(4)}")

    def poll(self, *, request: GenerationRequest, job_id: str) -> JobState:
        try:
            ready_at = float(job_id.removeprefix(JOB_PREFIX).split(":")[0])
        except ValueError:
            raise PermanentProviderError(FailureCode.PROVIDER_ERROR, f"not a demo job id: {job_id!r}") from None
        if self._clock() < ready_at:
            return JobState(job_id=job_id)
        return JobState(
            job_id=job_id, results=(ProviderResult(data=render_animation(request), content_type="image/gif"),)
        )


def _result_count(request: GenerationRequest) -> int:
    count = request.params.get("num_images", 1)
    return max(1, min(MAX_RESULTS, count)) if isinstance(count, int) and not isinstance(count, bool) else 1


def render_image(request: GenerationRequest, *, variant: int = 0) -> bytes:
    """A PNG of the prompt on a gradient with soft light, sized by `aspect_ratio`; with
    input images, the first of them with the prompt drawn over it. Each `variant` (of
    several results) shifts the colours a little."""
    if request.images:
        picture = _photo(request.images[0], long_side=EDIT_LONG_SIDE, variant=variant)
        width, height = picture.size
        shade = Image.new("RGBA", picture.size, (0, 0, 0, 70))  # keeps the text readable on a light photo
        picture.alpha_composite(shade)
    else:
        width, height = _size(request, long_side=None)
        palette = _palette(f"{request.prompt}#{variant}" if variant else request.prompt)
        picture = _background(width, height, palette, phase=variant / MAX_RESULTS)
    picture.alpha_composite(_text_layer(request, width, height))
    buffer = io.BytesIO()
    # compress_level 3: a third of the encode time of the default for a few % more bytes.
    picture.convert("RGB").save(buffer, format="PNG", compress_level=3)
    return buffer.getvalue()


def render_animation(request: GenerationRequest) -> bytes:
    """A short looping animated GIF: the light drifts and the colours breathe; with an
    input image, the camera slowly moves into the picture."""
    if request.images:
        still = _photo(request.images[0], long_side=VIDEO_LONG_SIDE)
        width, height = still.size[0] // 2 * 2, still.size[1] // 2 * 2
        text = _text_layer(request, width, height)
        frames = [_zoomed(still, (width, height), index / VIDEO_FRAMES, text) for index in range(VIDEO_FRAMES)]
        return _gif(frames)
    width, height = _size(request, long_side=VIDEO_LONG_SIDE)
    palette = _palette(request.prompt)
    text = _text_layer(request, width, height)
    frames = []
    for index in range(VIDEO_FRAMES):
        frame = _background(width, height, palette, phase=index / VIDEO_FRAMES)
        frame.alpha_composite(text)
        frames.append(frame.convert("RGB"))
    return _gif(frames)


def _photo(image: InputImage, *, long_side: int, variant: int = 0) -> Image.Image:
    """An input image as RGBA, upright, at most `long_side` on its longer side."""
    with Image.open(io.BytesIO(image.data)) as source:
        picture = ImageOps.exif_transpose(source).convert("RGB")
    picture.thumbnail((long_side, long_side), Image.Resampling.LANCZOS)
    if variant:
        picture = ImageEnhance.Color(picture).enhance(1 + 0.35 * variant)
        picture = ImageEnhance.Brightness(picture).enhance(1 + random.Random(variant).uniform(-0.08, 0.08))
    return picture.convert("RGBA")


def _zoomed(still: Image.Image, size: tuple[int, int], phase: float, text: Image.Image) -> Image.Image:
    """One frame of the camera moving into `still` (and back, so the clip loops)."""
    zoom = 1 + ANIMATION_ZOOM * (1 - math.cos(2 * math.pi * phase)) / 2
    width, height = still.size
    crop_w, crop_h = width / zoom, height / zoom
    left, top = (width - crop_w) / 2, (height - crop_h) / 2
    frame = still.resize(size, Image.Resampling.BILINEAR, box=(left, top, left + crop_w, top + crop_h))
    frame.alpha_composite(text)
    return frame.convert("RGB")


def _gif(frames: list[Image.Image]) -> bytes:
    """The frames as a looping animated GIF."""
    # One palette for all frames: no colour flicker, and mapping to a given palette
    # is several times cheaper than choosing one per frame.
    shared = frames[0].quantize(colors=224, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    frames = [shared, *(frame.quantize(palette=shared, dither=Image.Dither.NONE) for frame in frames[1:])]
    buffer = io.BytesIO()
    frames[0].save(
        buffer, format="GIF", save_all=True, append_images=frames[1:], duration=VIDEO_FRAME_MS, loop=0
    )
    return buffer.getvalue()


def _size(request: GenerationRequest, *, long_side: int | None) -> tuple[int, int]:
    width, height = IMAGE_SIZES.get(str(request.params.get("aspect_ratio", "")), IMAGE_SIZES["1:1"])
    if long_side:
        scale = long_side / max(width, height)
        width, height = round(width * scale) // 2 * 2, round(height * scale) // 2 * 2
    return width, height


def _palette(prompt: str) -> list[tuple[int, int, int]]:
    """Three colours that belong to the prompt: the same prompt, the same picture."""
    digest = hashlib.sha256(prompt.encode()).digest()
    base_hue = digest[0] / 255
    return [
        _hsv(base_hue, 0.75, 0.45),
        _hsv((base_hue + 0.12 + digest[1] / 2550) % 1, 0.65, 0.85),
        _hsv((base_hue + 0.22) % 1, 0.45, 1.0),
    ]


def _hsv(h: float, s: float, v: float) -> tuple[int, int, int]:
    i = int(h * 6) % 6
    f = h * 6 - int(h * 6)
    p, q, t = v * (1 - s), v * (1 - f * s), v * (1 - (1 - f) * s)
    r, g, b = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)][i]
    return round(r * 255), round(g * 255), round(b * 255)


def _background(width: int, height: int, palette: list[tuple[int, int, int]], *, phase: float) -> Image.Image:
    """A diagonal two-colour gradient with two blurred glows; `phase` (0..1) moves them in a loop."""
    dark, mid, light = palette
    mask = _diagonal_mask(width, height, angle=math.radians(35 + 20 * math.sin(2 * math.pi * phase)))
    picture = Image.composite(Image.new("RGBA", (width, height), mid), Image.new("RGBA", (width, height), dark), mask)
    glow = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(glow)
    radius = min(width, height) * 0.32
    angle = 2 * math.pi * phase
    for centre_x, centre_y, colour, alpha in (
        (0.28 + 0.08 * math.cos(angle), 0.30 + 0.06 * math.sin(angle), light, 150),
        (0.74 - 0.08 * math.cos(angle), 0.72 - 0.06 * math.sin(angle), mid, 170),
    ):
        x, y = centre_x * width, centre_y * height
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=(*colour, alpha))
    # Blurring a downscaled layer is ~16x cheaper and looks the same.
    small = glow.resize((max(1, width // 4), max(1, height // 4)), Image.Resampling.BILINEAR)
    small = small.filter(ImageFilter.GaussianBlur(radius=min(width, height) / 24))
    picture.alpha_composite(small.resize((width, height), Image.Resampling.BILINEAR))
    return picture


def _diagonal_mask(width: int, height: int, *, angle: float) -> Image.Image:
    """0..255 along the direction `angle`, drawn small and scaled up (a linear ramp scales exactly)."""
    side = 64
    dx, dy = math.cos(angle), math.sin(angle)
    values = [(x / (side - 1) - 0.5) * dx + (y / (side - 1) - 0.5) * dy for y in range(side) for x in range(side)]
    low, high = min(values), max(values)
    small = Image.new("L", (side, side))
    small.putdata([round(255 * (value - low) / (high - low)) for value in values])
    return small.resize((width, height), Image.Resampling.BILINEAR)


def _text_layer(request: GenerationRequest, width: int, height: int) -> Image.Image:
    """The prompt, wrapped and centred with a soft shadow, and a small caption."""
    layer = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    margin = round(min(width, height) * 0.09)
    font, lines = _fit_text(request.prompt.strip() or "…", width - 2 * margin, round(height * 0.62))
    line_height = round(font.size * 1.25)
    top = (height - line_height * len(lines)) // 2
    shadow = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    shadow_draw, draw = ImageDraw.Draw(shadow), ImageDraw.Draw(layer)
    offset = max(2, font.size // 14)
    for index, line in enumerate(lines):
        y = top + index * line_height
        shadow_draw.text((width / 2 + offset, y + offset), line, font=font, fill=(0, 0, 0, 150), anchor="ma")
        draw.text((width / 2, y), line, font=font, fill=(255, 255, 255, 245), anchor="ma")
    shadow = shadow.filter(ImageFilter.GaussianBlur(radius=offset * 1.5))
    caption_font = _font(max(12, round(min(width, height) * 0.028)))
    caption = f"NanoGen demo · {request.title}" if request.title else "NanoGen demo"
    draw.text((width / 2, height - margin / 2), caption, font=caption_font, fill=(255, 255, 255, 170), anchor="md")
    shadow.alpha_composite(layer)
    return shadow


def _fit_text(text: str, max_width: int, max_height: int) -> tuple[ImageFont.FreeTypeFont, list[str]]:
    """The largest font (down to a floor) at which the wrapped text fits; long text is cut with an ellipsis."""
    size = max(18, round(max_height / 3.2))
    floor = max(14, round(max_height / 16))
    while True:
        font = _font(size)
        lines = _wrap(text, font, max_width)
        if len(lines) * size * 1.25 <= max_height or size <= floor:
            break
        size = max(floor, round(size * 0.88))
    max_lines = max(1, int(max_height // (size * 1.25)))
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        while lines[-1] and font.getlength(lines[-1] + "…") > max_width:
            lines[-1] = lines[-1][:-1]
        lines[-1] = lines[-1].rstrip() + "…"
    return font, lines


def _wrap(text: str, font: ImageFont.FreeTypeFont, max_width: int) -> list[str]:
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for word in paragraph.split():
            while font.getlength(word) > max_width:  # a word wider than the line: break it
                cut = max(1, next(i for i in range(len(word), 0, -1) if font.getlength(word[:i]) <= max_width))
                if line:
                    lines.append(line)
                    line = ""
                lines.append(word[:cut])
                word = word[cut:]
            candidate = f"{line} {word}".strip()
            if font.getlength(candidate) <= max_width:
                line = candidate
            else:
                lines.append(line)
                line = word
        lines.append(line)
    return [line for line in lines if line] or [""]


@cache
def _font(size: int) -> ImageFont.FreeTypeFont:
    for candidate in FONT_CANDIDATES:
        if Path(candidate).exists():
            return ImageFont.truetype(candidate, size)
    return ImageFont.load_default(size=size)  # type: ignore[return-value]
