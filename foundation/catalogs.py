"""The apps' words in gettext catalogs: where they live, how they are read, extracted and compiled.

A translator works on standard ``.po`` files (Poedit, Lokalize, Weblate) and never reads Python.
One folder holds every catalog, inside this package so that it ships in the wheel the Pi
installs (a top-level ``locale`` package would also shadow the standard library's module)::

    foundation/locale/<domain>.pot                    the template, extracted from the sources
    foundation/locale/<lang>/LC_MESSAGES/<domain>.po  one translation, edited by translators
    foundation/locale/<lang>/LC_MESSAGES/<domain>.mo  compiled at install, never committed

One domain per app, because each app ships and loads only its own words:

- ``kiosk``: the touchscreen's words, marked in kiosk/i18n.py;
- ``web``: the web pages' words, in server/web/templates and server/web/*.py.

The source language is 简体中文 (``zh_CN``): every msgid is the Chinese text, so zh_CN has no
catalog and every other language has one ``.po`` per domain. Commands (docs/TRANSLATING.md)::

    python -m foundation.catalogs extract   # sources -> <domain>.pot, merged into every .po
    python -m foundation.catalogs compile   # every .po -> .mo that is missing or older

scripts/bootstrap.sh and scripts/install-pi.sh run ``compile``. At run time
:func:`translations` reads the ``.mo``; when it is missing or older than its ``.po`` (a fresh
checkout, a translator's edit), the ``.po`` is compiled in memory and a warning names the
``.mo`` and the command. Babel is imported only to extract or compile.

Apps call this module; it imports no app. ``DOMAINS`` names the app folders only as the places
extraction reads, the way babel.cfg names file patterns.
"""

from __future__ import annotations

import gettext
import io
import logging
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from foundation.errors import ServicepointError

__all__ = [
    "DOMAINS",
    "LOCALE_DIR",
    "SOURCE_LANGUAGE",
    "CatalogMissing",
    "Domain",
    "compile_catalogs",
    "extract",
    "translated_languages",
    "translations",
    "update_catalogs",
]

log = logging.getLogger(__name__)

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
REPO_ROOT = Path(__file__).resolve().parents[1]
MAPPING_FILE = REPO_ROOT / "babel.cfg"
SOURCE_LANGUAGE = "zh_CN"
COMMENT_TAGS = ("TRANSLATORS:",)


@dataclass(frozen=True)
class Domain:
    """One app's catalog: the folder its words are extracted from and the marker functions.

    ``keywords`` uses Babel's notation: ``{"pgettext": ((1, "c"), 2)}`` means the first argument
    is the context (msgctxt) and the second the message; ``None`` means the first argument.
    """

    name: str
    source: str
    keywords: Mapping[str, Any]


DOMAINS: dict[str, Domain] = {
    # kiosk/i18n.py marks each message as pgettext_noop(key, 中文): the key is the context.
    "kiosk": Domain("kiosk", "kiosk", {"pgettext_noop": ((1, "c"), 2)}),
    # Templates call _() and pgettext(); page modules mark words for later with N_() and
    # pgettext_noop(context, 中文).
    "web": Domain("web", "server/web", {"_": None, "gettext": None, "pgettext": ((1, "c"), 2),
                                         "N_": None, "pgettext_noop": ((1, "c"), 2)}),
}


class CatalogMissing(ServicepointError, FileNotFoundError):
    """A language has neither a compiled ``.mo`` nor a ``.po`` to compile it from."""


def _po_path(locale_dir: Path, domain: str, language: str) -> Path:
    return locale_dir / language / "LC_MESSAGES" / f"{domain}.po"


def translated_languages(domain: str, locale_dir: Path = LOCALE_DIR) -> tuple[str, ...]:
    """The languages with a ``.po`` for ``domain``, besides the source language."""
    return tuple(sorted(p.parents[1].name for p in locale_dir.glob(f"*/LC_MESSAGES/{domain}.po")))


@cache
def translations(domain: str, language: str,
                 locale_dir: Path = LOCALE_DIR) -> gettext.NullTranslations:
    """The words of ``domain`` in ``language``; the source language translates to itself."""
    if language == SOURCE_LANGUAGE:
        return gettext.NullTranslations()
    po = _po_path(locale_dir, domain, language)
    mo = po.with_suffix(".mo")
    if mo.is_file() and (not po.is_file() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as compiled:
            return gettext.GNUTranslations(compiled)
    if not po.is_file():
        raise CatalogMissing(f"no {language} catalog for {domain}: neither {mo} nor {po} exists")
    log.warning("%s is missing or older than its .po: compiled it in memory "
                "(run: python -m foundation.catalogs compile)", mo)
    return gettext.GNUTranslations(io.BytesIO(_compiled(po, language)))


def _compiled(po: Path, language: str) -> bytes:
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as source:
        catalog = read_po(source, locale=language, domain=po.stem)
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)  # a fuzzy entry is a guess: show the source instead
    return out.getvalue()


def compile_catalogs(locale_dir: Path = LOCALE_DIR) -> list[Path]:
    """Write the ``.mo`` of every ``.po`` whose ``.mo`` is missing or older; returns those."""
    written = []
    for po in sorted(locale_dir.glob("*/LC_MESSAGES/*.po")):
        mo = po.with_suffix(".mo")
        if mo.is_file() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        mo.write_bytes(_compiled(po, po.parents[1].name))
        written.append(mo)
    return written


def extract(domain: Domain, root: Path = REPO_ROOT) -> Any:
    """The template catalog (a ``babel.messages.Catalog``) of ``domain``, read from the sources."""
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_dir
    from babel.messages.frontend import parse_mapping_cfg

    with MAPPING_FILE.open() as mapping:
        # Babel's reader of the mapping file has no type hints.
        method_map, options_map = parse_mapping_cfg(  # type: ignore[no-untyped-call]
            mapping, filename=str(MAPPING_FILE))
    catalog = Catalog(project="servicepoint", version=_version(), domain=domain.name,
                      charset="utf-8", fuzzy=False, msgid_bugs_address="",
                      header_comment=f"# The {domain.name} words of servicepoint, in the source "
                      f"language 简体中文 (zh_CN).\n# Made by: python -m foundation.catalogs "
                      f"extract (docs/TRANSLATING.md). Do not edit by hand.")
    found = extract_from_dir(root / domain.source, method_map, options_map,
                             keywords=domain.keywords, comment_tags=COMMENT_TAGS,
                             strip_comment_tags=True)
    for filename, lineno, message, comments, context in found:
        catalog.add(message, None, [(f"{domain.source}/{filename}", lineno)],
                    auto_comments=comments, context=context)
    return catalog


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("servicepoint")
    except PackageNotFoundError:
        return "0"


def _entries(catalog: Any) -> list[tuple[Any, ...]]:
    """What a catalog says, without its dates: an unchanged catalog is not written again."""
    return [(m.context, m.id, m.string or "", sorted({path for path, _ in m.locations}),
             m.auto_comments, sorted(m.flags)) for m in catalog if m.id]


def update_catalogs(root: Path = REPO_ROOT, locale_dir: Path = LOCALE_DIR) -> None:
    """Extract every domain into its ``.pot`` and merge that into each language's ``.po``.

    New messages arrive untranslated, changed ones as fuzzy guesses, removed ones are dropped:
    the test in tests/foundation/test_catalogs.py then lists what a translator must do.
    """
    from babel.messages.pofile import read_po, write_po

    def write(path: Path, catalog: Any) -> None:
        if path.is_file():
            with path.open("rb") as existing:
                if _entries(read_po(existing)) == _entries(catalog):
                    return
        log.info("writing %s", path)
        out = io.BytesIO()
        # No line numbers: they change with every edit to a source and say little to a
        # translator; the file name is the useful part.
        write_po(out, catalog, width=100, include_lineno=False, ignore_obsolete=True)
        path.write_bytes(out.getvalue())

    for domain in DOMAINS.values():
        template = extract(domain, root)
        write(locale_dir / f"{domain.name}.pot", template)
        for language in translated_languages(domain.name, locale_dir):
            po = _po_path(locale_dir, domain.name, language)
            with po.open("rb") as source:
                catalog = read_po(source, locale=language, domain=domain.name)
            catalog.update(template)
            write(po, catalog)


def main(argv: list[str] | None = None) -> int:
    """``python -m foundation.catalogs extract|compile``."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args = sys.argv[1:] if argv is None else argv
    if args == ["extract"]:
        update_catalogs()
    elif args == ["compile"]:
        for mo in compile_catalogs():
            log.info("compiled %s", mo)
    else:
        log.error("usage: python -m foundation.catalogs extract|compile")
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
