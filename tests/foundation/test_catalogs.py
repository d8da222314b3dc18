"""The translation catalogs: every message translated in every language, with the same
placeholders, nothing left as a fuzzy guess, and the templates in step with the sources.

A failure here lists what a translator (or whoever changed a word) still has to do; the fix is
in docs/TRANSLATING.md: ``python -m foundation.catalogs extract``, then translate in Poedit.
"""

from __future__ import annotations

import logging
import os
import re
from collections import Counter
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from foundation.catalogs import (
    DOMAINS,
    LOCALE_DIR,
    CatalogMissing,
    compile_catalogs,
    extract,
    translated_languages,
    translations,
)
from kiosk.i18n import SOURCE, tr

# %(name)s, %d, %.0f (not %%), and {name} for str.format.
PLACEHOLDER = re.compile(r"%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[sdifr]|%(?:\.\d+)?[sdif]|\{\w*\}")


def placeholders(text: str) -> Counter[str]:
    return Counter(PLACEHOLDER.findall(text.replace("%%", "")))


def read(path: Path):  # -> babel.messages.Catalog
    with path.open("rb") as f:
        return read_po(f)


def entries(catalog) -> dict[tuple[str | None, str], object]:
    return {(m.context, m.id): m for m in catalog if m.id}


def test_every_domain_has_an_english_catalog():
    for domain in DOMAINS:
        assert translated_languages(domain) == ("en",), domain


@pytest.mark.parametrize("domain", sorted(DOMAINS))
def test_every_message_is_translated_with_the_same_placeholders(domain: str) -> None:
    template = entries(read(LOCALE_DIR / f"{domain}.pot"))
    for language in translated_languages(domain):
        po = LOCALE_DIR / language / "LC_MESSAGES" / f"{domain}.po"
        translated = entries(read(po))
        assert translated.keys() == template.keys(), (
            f"{po} differs from its template: run python -m foundation.catalogs extract")
        problems = []
        for key, message in translated.items():
            if not message.string:
                problems.append(f"untranslated: {key}")
            elif message.fuzzy:
                problems.append(f"fuzzy (check, then clear the flag): {key}")
            elif placeholders(message.id) != placeholders(message.string):
                problems.append(f"placeholders differ: {key} -> {message.string!r}")
        assert not problems, f"{po}:\n" + "\n".join(problems)


@pytest.mark.parametrize("domain", sorted(DOMAINS))
def test_the_templates_hold_exactly_the_messages_of_the_sources(domain: str) -> None:
    extracted = entries(extract(DOMAINS[domain])).keys()
    kept = entries(read(LOCALE_DIR / f"{domain}.pot")).keys()
    assert extracted == kept, (
        f"new in the sources: {sorted(extracted - kept, key=str)}; "
        f"gone from them: {sorted(kept - extracted, key=str)}; "
        "run python -m foundation.catalogs extract")


def test_the_kiosk_reads_every_message_from_the_catalog_in_english():
    english = {key: message.string for (key, _), message in entries(
        read(LOCALE_DIR / "en" / "LC_MESSAGES" / "kiosk.po")).items()}
    for key, source in SOURCE.items():
        values = {name: f"<{name}>" for name in re.findall(r"{(\w+)}", source)}
        assert tr("zh_CN", key, **values) == source.format(**values)
        assert tr("en", key, **values) == english.get(key, "").format(**values), key
    assert tr("en", "step_of", at=2, total=5) == "Step 2 of 5"
    assert tr("fr", "back") == "返回"  # no catalog: the source language


def _write_po(folder: Path, english: str) -> Path:
    po = folder / "en" / "LC_MESSAGES" / "demo.po"
    po.parent.mkdir(parents=True)
    po.write_text('msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'
                  f'msgid "返回"\nmsgstr "{english}"\n\n'
                  '#, fuzzy\nmsgid "首页"\nmsgstr "Home?"\n', encoding="utf-8")
    return po


def test_a_missing_or_stale_mo_is_compiled_from_its_po(tmp_path: Path,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    po = _write_po(tmp_path, "Back")
    with caplog.at_level(logging.WARNING, logger="foundation.catalogs"):
        words = translations("demo", "en", tmp_path)
    assert words.gettext("返回") == "Back"
    assert words.gettext("首页") == "首页"  # a fuzzy guess is not shown
    assert str(po.with_suffix(".mo")) in caplog.text

    assert compile_catalogs(tmp_path) == [po.with_suffix(".mo")]
    assert compile_catalogs(tmp_path) == []  # up to date: nothing to do
    po.write_text(po.read_text(encoding="utf-8").replace("Back", "Go back"), encoding="utf-8")
    later = po.with_suffix(".mo").stat().st_mtime + 5
    os.utime(po, (later, later))
    assert compile_catalogs(tmp_path) == [po.with_suffix(".mo")]
    translations.cache_clear()
    assert translations("demo", "en", tmp_path).gettext("返回") == "Go back"


def test_a_language_without_a_catalog_is_named_in_the_error(tmp_path: Path) -> None:
    with pytest.raises(CatalogMissing, match=r"fr/LC_MESSAGES/demo\.mo"):
        translations("demo", "fr", tmp_path)
