"""GeoReport v2's XML, the format the spec requires, from the same dicts the JSON answers carry.

Pure (xml.etree only; this module writes XML and never parses it). The shapes are the spec's::

    render("services", "service", [{...}, ...])      # <services><service>…</service>…</services>
    render("service_requests", "request", [...])
    render_one("service_definition", {...})         # attributes -> <attributes><attribute>…
    render("errors", "error", [{"code": 403, "description": "…"}])

Booleans are written ``true``/``false``, ``None`` as an empty element, and a list under a key is
wrapped in that key with one child per item, named by the spec's singular (``attributes`` ->
``attribute``, ``values`` -> ``value``). Characters XML 1.0 cannot carry (control characters a
client sent, echoed in an error) become U+FFFD, so the answer always parses.
"""

from __future__ import annotations

import re
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

__all__ = ["CONTENT_TYPE", "render", "render_one"]

CONTENT_TYPE = "text/xml; charset=utf-8"
_SINGULAR = {"attributes": "attribute", "values": "value"}
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _text(value: object) -> str:
    return _NOT_XML.sub("\ufffd", str(value))


def _fill(parent: Element, data: dict[str, Any]) -> None:
    for key, value in data.items():
        child = SubElement(parent, key)
        if isinstance(value, list):
            item_tag = _SINGULAR.get(key, "item")
            for item in value:
                _fill(SubElement(child, item_tag), item)
        elif isinstance(value, dict):
            _fill(child, value)
        elif isinstance(value, bool):
            child.text = "true" if value else "false"
        elif value is not None:
            child.text = _text(value)


def render_one(root: str, data: dict[str, Any]) -> bytes:
    element = Element(root)
    _fill(element, data)
    return bytes(tostring(element, encoding="utf-8", xml_declaration=True))


def render(root: str, item_tag: str, items: list[dict[str, Any]]) -> bytes:
    element = Element(root)
    for item in items:
        _fill(SubElement(element, item_tag), item)
    return bytes(tostring(element, encoding="utf-8", xml_declaration=True))
