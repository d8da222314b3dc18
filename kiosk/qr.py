"""QR codes for the done screen, drawn in memory (no files).

    image = qr_image(url)          # a PIL image, black on white with the standard quiet zone
    texture = qr_texture(url)      # a Kivy texture, imported lazily so tests of qr_image need no GL
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PIL import Image

__all__ = ["qr_image", "qr_texture"]


def qr_image(url: str, *, box_size: int = 8) -> Image.Image:
    # Imported here, not at start: a code is drawn only on the done and library screens, and
    # qrcode with PIL costs about 2 MiB resident (BENCHMARKS.md, Kiosk).
    import qrcode

    # Medium error correction survives a smudged or glare-struck screen without a huge code.
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=box_size,
                         border=4)
    code.add_data(url)
    code.make(fit=True)
    return code.make_image(fill_color="black", back_color="white").get_image().convert("RGB")


def qr_texture(url: str) -> Any:
    from kivy.graphics.texture import Texture
    from PIL import Image

    # RGBA rows are always 4-byte aligned, whatever the code's width; RGB rows may not be.
    image = qr_image(url, box_size=4).convert("RGBA").transpose(Image.Transpose.FLIP_TOP_BOTTOM)
    texture = Texture.create(size=image.size, colorfmt="rgba")
    texture.blit_buffer(image.tobytes(), colorfmt="rgba", bufferfmt="ubyte")
    # Nearest: scaled up, the modules stay crisp squares a phone camera reads at once.
    texture.mag_filter = "nearest"
    texture.min_filter = "nearest"
    return texture
