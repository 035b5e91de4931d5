"""What a photo is: checked, read, stripped of EXIF, copied for display and as a thumbnail.

Pillow reads JPEG, PNG and WebP, and HEIC/HEIF through pillow-heif. A file is an image
only if Pillow can decode it whole (a name or a header is not enough); a decompression
bomb is refused before it is decoded (Pillow's ``MAX_IMAGE_PIXELS``, from the setting). The
EXIF orientation is applied, and the copies served are re-encoded JPEG without any
metadata. What the EXIF said — GPS position, time taken, camera make and model — is
answered for the photo's row, where only dispatchers read it; the GPS position is WGS84
by the EXIF standard (a ``GPSMapDatum`` naming another datum is not used).
"""

from __future__ import annotations

import io
import math
import warnings
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from PIL import Image, ImageOps, UnidentifiedImageError
from pillow_heif import register_heif_opener

from geo.errors import InvalidInput, TooLarge

register_heif_opener()

FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "HEIF": "image/heif"}
GPS_IFD = 0x8825
EXIF_IFD = 0x8769
MAKE, MODEL, DATETIME = 0x010F, 0x0110, 0x0132
DATETIME_ORIGINAL = 0x9003
ORIENTATION = 0x0112
BEIJING = ZoneInfo("Asia/Shanghai")
WGS84_NAMES = {"", "WGS-84", "WGS 84", "WGS84"}


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_pixels: int
    display_px: int
    thumb_px: int


@dataclass
class Processed:
    """A decoded photo: its type and size, the copies to serve, and what its EXIF said."""

    media_type: str
    width: int
    height: int
    display: bytes
    thumb: bytes
    lon: float | None = None
    lat: float | None = None
    taken_at: datetime | None = None
    device: str | None = None
    warnings: list[str] = field(default_factory=list)


def _degrees(value: Any, ref: Any) -> float:
    """An EXIF GPS coordinate (degrees, minutes, seconds as rationals) in signed degrees.

    >>> _degrees((36.0, 4.0, 30.0), "N")
    36.075
    >>> _degrees((120, 21, 0), "W")
    -120.35
    """
    d, m, s = (float(Fraction(v)) if not isinstance(v, float) else v for v in value)
    sign = -1.0 if str(ref).strip().upper() in ("S", "W") else 1.0
    return sign * (d + m / 60.0 + s / 3600.0)


def exif_position(gps: dict[int, Any]) -> tuple[float | None, float | None, str | None]:
    """(lon, lat, warning) from an EXIF GPS directory; no position and a warning when it is unusable.

    >>> exif_position({1: "N", 2: (36, 4, 30), 3: "E", 4: (120, 21, 0)})
    (120.35, 36.075, None)
    >>> exif_position({1: "N", 2: (136, 0, 0), 3: "E", 4: (120, 0, 0)})[2]
    'the photo says it was taken at latitude 136.0, longitude 120.0, which is not on Earth: not used'
    >>> exif_position({})
    (None, None, None)
    """
    if not all(k in gps for k in (2, 4)):
        return None, None, None
    try:
        lat, lon = _degrees(gps[2], gps.get(1, "N")), _degrees(gps[4], gps.get(3, "E"))
    except (TypeError, ValueError, ZeroDivisionError):
        return None, None, "the photo's GPS position cannot be read: not used"
    datum = str(gps.get(18, "") or "").strip().upper().replace("_", "-")
    if datum not in WGS84_NAMES:
        return None, None, f"the photo's GPS position is in datum {datum!r}, not WGS84: not used"
    if not (math.isfinite(lat) and math.isfinite(lon)) or abs(lat) > 90 or abs(lon) > 180:
        where = f"latitude {lat}, longitude {lon}"
        return None, None, f"the photo says it was taken at {where}, which is not on Earth: not used"
    if lat == 0 and lon == 0:
        return None, None, "the photo's GPS position is 0, 0 (a camera without a fix): not used"
    return lon, lat, None


def _taken_at(exif: Image.Exif) -> datetime | None:
    raw = exif.get_ifd(EXIF_IFD).get(DATETIME_ORIGINAL) or exif.get(DATETIME)
    try:
        taken = datetime.strptime(str(raw).strip("\x00 "), "%Y:%m:%d %H:%M:%S") if raw else None
        return taken.replace(tzinfo=BEIJING) if taken else None  # EXIF keeps the camera's local time
    except ValueError:
        return None


def _resized(image: Image.Image, long_side: int) -> Image.Image:
    copy = image.copy()
    copy.thumbnail((long_side, long_side), Image.Resampling.LANCZOS)
    return copy


def _jpeg(image: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, progressive=True)  # no exif=: no metadata is written
    return out.getvalue()


def _flatten(image: Image.Image) -> Image.Image:
    """RGB, with any transparency on white (JPEG has no alpha)."""
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGB", rgba.size, (255, 255, 255))
        white.paste(rgba, mask=rgba.getchannel("A"))
        return white
    return image.convert("RGB")


def process(data: bytes, limits: Limits, name: str = "photo") -> Processed:
    """Check and read one uploaded photo; ``InvalidInput``/``TooLarge`` name the file."""
    if len(data) > limits.max_bytes:
        raise TooLarge(
            f"{name} is {len(data) / 1e6:.1f} MB; a photo may be at most {limits.max_bytes / 1e6:.0f} MB",
            field=name,
        )
    Image.MAX_IMAGE_PIXELS = limits.max_pixels
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            kind = FORMATS.get(image.format or "")
            if kind is None:
                raise InvalidInput(
                    f"{name} is a {image.format} image; photos are JPEG, PNG, WebP or HEIC", field=name
                )
            if image.width * image.height > limits.max_pixels:
                raise InvalidInput(
                    f"{name} has {image.width}×{image.height} pixels; at most {limits.max_pixels:,}",
                    field=name,
                )
            width, height = image.size
            if kind == "image/jpeg":  # decoded at the scale the display copy needs (whole, still checked)
                image.draft("RGB", (limits.display_px, limits.display_px))
            image.load()
    except InvalidInput:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InvalidInput(
            f"{name} would decode to too many pixels (a decompression bomb?)", field=name
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise InvalidInput(
            f"{name} is not an image Pillow can read ({exc.__class__.__name__})", field=name
        ) from None
    exif = image.getexif()
    lon, lat, warning = exif_position(dict(exif.get_ifd(GPS_IFD)))
    make, model = (str(exif.get(t) or "").strip("\x00 ") for t in (MAKE, MODEL))
    upright = _flatten(ImageOps.exif_transpose(image))
    turned = exif.get(ORIENTATION) in (5, 6, 7, 8)  # a quarter turn: the upright photo's sides swap
    display = _resized(upright, limits.display_px)
    return Processed(
        media_type=kind,
        width=height if turned else width,
        height=width if turned else height,
        display=_jpeg(display, 85),
        thumb=_jpeg(_resized(display, limits.thumb_px), 75),
        lon=lon,
        lat=lat,
        taken_at=_taken_at(exif),
        device=" ".join(p for p in (make, model) if p) or None,
        warnings=[warning] if warning else [],
    )
