"""Photos are decoded and written again before they are stored (case attachments and visit photos).

Whatever bytes came in, what is stored and served is a fresh JPEG or PNG that Pillow drew from the
decoded pixels: no metadata (EXIF GPS positions, camera serials), no trailing or embedded payloads (a
GIF that is also an HTML page), no animation. A file that does not decode as an image is refused.
"""

from __future__ import annotations

import io

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".gif", ".webp"}
MAX_PIXELS = 40_000_000  # a 40-megapixel photo; larger is refused before decoding (decompression bombs)
_FORMATS = {"JPEG", "PNG", "GIF", "WEBP"}


def _refuse() -> ValidationError:
    return ValidationError({"file": [_("This file is not a readable image (JPEG, PNG, GIF or WebP).")]})


def reencode(upload: UploadedFile, name: str) -> tuple[UploadedFile, str, str]:
    """(new upload, new name, content type): JPEG stays JPEG, other images become PNG."""
    upload.seek(0)
    try:
        with Image.open(upload) as source:
            if source.format not in _FORMATS:
                raise _refuse()
            if source.width * source.height > MAX_PIXELS:
                raise ValidationError(
                    {
                        "file": [
                            _("The image is too large: at most %(mp)d megapixels.")
                            % {"mp": MAX_PIXELS // 1_000_000}
                        ]
                    }
                )
            source.seek(0)  # the first frame of an animation
            source.load()
            image = ImageOps.exif_transpose(source)  # keep the photo upright once EXIF is gone
            as_jpeg = source.format == "JPEG"
            if as_jpeg:
                image = image.convert("RGB")
            elif image.mode not in ("RGB", "RGBA", "L", "LA"):
                image = image.convert("RGBA")
            out = io.BytesIO()
            # No exif= / pnginfo= argument: the new file carries no metadata.
            image.save(out, format="JPEG" if as_jpeg else "PNG", quality=85, optimize=True)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise _refuse() from exc
    finally:
        upload.seek(0)
    stem = name.rsplit(".", 1)[0] or "photo"
    new_name = f"{stem}.jpg" if as_jpeg else f"{stem}.png"
    content_type = "image/jpeg" if as_jpeg else "image/png"
    return SimpleUploadedFile(new_name, out.getvalue(), content_type=content_type), new_name, content_type
