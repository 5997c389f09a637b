"""The upload benchmark (`make bench BENCH_ARGS="--only uploads"`, also part of the full run):

1. Latency of `POST /api/uploads` with a 10 MB JPEG (a 24-megapixel photo-like picture)
   against gunicorn as the Procfile runs it: each upload is accepted, checked, decoded,
   shrunk, re-encoded without metadata and stored; p50/p95/max.
2. Memory of the web workers (RSS, read from /proc every 10 ms) while 4 uploads of
   40-megapixel images run at once: a JPEG (a phone's photo), a PNG (a screenshot-like
   picture that compresses well enough to fit the size limit) and a WebP.
"""

import io
import math
import random
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFilter

from bench.load import percentile, send

BOUNDARY_PREFIX = "----nanogen-bench-"


def photo(size: tuple[int, int], *, seed: int = 7) -> Image.Image:
    """A picture with a photo's statistics: smooth light, edges and fine grain (so a
    JPEG of it is as large as a camera's)."""
    width, height = size
    generator = random.Random(seed)
    small = Image.new("RGB", (64, 48))
    small.putdata([(generator.randrange(40, 220), generator.randrange(40, 220), generator.randrange(40, 220))
                   for _ in range(64 * 48)])
    picture = small.resize(size, Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(picture)
    for _ in range(300):
        x, y = generator.randrange(width), generator.randrange(height)
        r = generator.randrange(max(2, width // 200), max(3, width // 12))
        colour = (generator.randrange(256), generator.randrange(256), generator.randrange(256))
        draw.ellipse((x - r, y - r, x + r, y + r), outline=colour, width=max(1, r // 15))
    grain = Image.effect_noise(size, 28).convert("RGB")
    return Image.blend(picture, grain, 0.18).filter(ImageFilter.SMOOTH_MORE)


def screenshot(size: tuple[int, int]) -> Image.Image:
    """Flat areas and text-like stripes: what a large PNG that fits 10 MB looks like."""
    width, height = size
    picture = Image.new("RGB", size, (245, 245, 250))
    draw = ImageDraw.Draw(picture)
    for row in range(0, height, 40):
        draw.rectangle((40, row + 8, width - 40 - (row * 37) % (width // 3), row + 24), fill=(60, 70, 90))
    for column in range(0, width, 600):
        draw.rectangle((column, 0, column + 6, height), fill=(200, 60, 60))
    return picture


def jpeg_near(image: Image.Image, max_bytes: int) -> bytes:
    """The image as a JPEG of the highest quality that stays within `max_bytes`."""
    low, high, best = 40, 98, b""
    while low <= high:
        quality = (low + high) // 2
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=quality)
        if buffer.tell() <= max_bytes:
            best, low = buffer.getvalue(), quality + 1
        else:
            high = quality - 1
    if not best:
        raise RuntimeError("no JPEG quality fits the size")
    return best


def webp_near(image: Image.Image, max_bytes: int) -> bytes:
    """The image as a lossy WebP that stays within `max_bytes` (a few qualities tried)."""
    for quality in (90, 80, 70, 60, 50):
        buffer = io.BytesIO()
        image.save(buffer, format="WEBP", quality=quality, method=0)
        if buffer.tell() <= max_bytes:
            return buffer.getvalue()
    raise RuntimeError("no WebP quality fits the size")


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()


def multipart(data: bytes, *, name: str, content_type: str) -> tuple[bytes, str]:
    boundary = BOUNDARY_PREFIX + uuid.uuid4().hex
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
            f"Content-Type: {content_type}\r\n\r\n").encode()
    return head + data + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def upload_request(data: bytes, *, name: str, content_type: str, init_data: str) -> tuple:
    body, body_type = multipart(data, name=name, content_type=content_type)
    return ("POST", "/api/uploads", body, {"Authorization": f"tma {init_data}", "Content-Type": body_type})


def latency(port: int, data: bytes, *, requests: int, init_data_of: Any) -> dict[str, Any]:
    """`requests` uploads one after the other, each by another user (the rate limit is per user)."""
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    for index in range(requests):
        request = upload_request(data, name=f"photo-{index}.jpg", content_type="image/jpeg",
                                 init_data=init_data_of(index))
        started = time.perf_counter()
        status, _body = send(port, request, timeout=60)
        elapsed = (time.perf_counter() - started) * 1000
        statuses[status] += 1
        if status == 201:
            latencies.append(elapsed)
    return {
        "requests": requests,
        "bytes": len(data),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "p50_ms": round(percentile(latencies, 50), 1),
        "p95_ms": round(percentile(latencies, 95), 1),
        "max_ms": round(max(latencies, default=0.0), 1),
    }


def worker_pids(master_pid: int) -> list[int]:
    """gunicorn's workers: the processes whose parent is the master."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command may contain spaces and parentheses: the fields after the last ")".
        if int(stat.rsplit(")", 1)[1].split()[1]) == master_pid:
            pids.append(int(entry.name))
    return sorted(pids)


def rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def memory_under_concurrent_uploads(port: int, master_pid: int, data: bytes, *, name: str, content_type: str,
                                    concurrency: int, init_data_of: Any) -> dict[str, Any]:
    """Start `concurrency` uploads at once and sample every worker's RSS until all answered."""
    pids = worker_pids(master_pid)
    before = {pid: rss_mib(pid) or 0.0 for pid in pids}
    peak = dict(before)
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            for pid in pids:
                value = rss_mib(pid)
                if value is not None and value > peak[pid]:
                    peak[pid] = value
            time.sleep(0.01)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    statuses: list[int] = [0] * concurrency
    seconds: list[float] = [0.0] * concurrency
    barrier = threading.Barrier(concurrency)

    def one(index: int) -> None:
        request = upload_request(data, name=name, content_type=content_type, init_data=init_data_of(index))
        barrier.wait()
        started = time.perf_counter()
        statuses[index] = send(port, request, timeout=120)[0]
        seconds[index] = time.perf_counter() - started

    threads = [threading.Thread(target=one, args=(index,)) for index in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    done.set()
    sampler.join(timeout=5)
    return {
        "concurrency": concurrency,
        "bytes": len(data),
        "statuses": dict(Counter(str(status) for status in statuses)),
        "workers": len(pids),
        "rss_before_mib": {str(pid): round(value, 1) for pid, value in before.items()},
        "rss_peak_mib": {str(pid): round(value, 1) for pid, value in peak.items()},
        "max_rss_mib": round(max(peak.values(), default=0.0), 1),
        "slowest_s": round(max(seconds, default=0.0), 2),
    }


def forty_megapixels() -> tuple[int, int]:
    """A 3:2 size of just under 40 000 000 pixels (UPLOAD_MAX_PIXELS)."""
    height = math.isqrt(40_000_000 * 2 // 3)
    return (40_000_000 // height, height)
