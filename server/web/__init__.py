"""Server-rendered pages: the resident's phone page (where the QR code leads)."""
