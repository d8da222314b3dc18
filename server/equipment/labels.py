"""QR asset labels for extinguishers: the code as SVG markup, drawn from the QR matrix.

Each label's QR holds the address of the extinguisher's inspection form
(``<public url>/staff/inspect/<asset id>``), so a phone that scans it opens the form, through
the sign-in page if needed. The label page (``server/web/templates/equipment_labels.html``)
lays the labels out for 50 × 30 mm label paper; the SVG scales to any size without blurring.
A path of one square per dark module, no style attribute (the pages' Content-Security-Policy
allows none)::

    svg = qr_svg("https://sp.example/staff/inspect/ext-1")   # "<svg …><path d=…/></svg>"
"""

from __future__ import annotations

import qrcode
from qrcode.constants import ERROR_CORRECT_M

__all__ = ["inspection_path", "qr_svg"]

QUIET = 4  # modules of white around the code, as the QR standard asks


def inspection_path(asset_id: str) -> str:
    return f"/staff/inspect/{asset_id}"


def qr_svg(data: str, *, label: str = "") -> str:
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=0, box_size=1)
    code.add_data(data)
    code.make(fit=True)
    matrix = code.get_matrix()
    size = len(matrix) + 2 * QUIET
    squares = "".join(f"M{x + QUIET},{y + QUIET}h1v1h-1z"
                      for y, row in enumerate(matrix) for x, dark in enumerate(row) if dark)
    title = f"<title>{_escape(label)}</title>" if label else ""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" '
            f'shape-rendering="crispEdges" role="img" class="qr">{title}'
            f'<rect width="{size}" height="{size}" fill="#fff"/>'
            f'<path fill="#000" d="{squares}"/></svg>')


def _escape(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))
