"""The web pages' words in the reader's language, read from the ``web`` gettext catalog.

The msgids are the Chinese text (简体中文 is the source language); the English catalog is
foundation/locale/en/LC_MESSAGES/web.po (foundation.catalogs finds and compiles it).
:func:`server.web.common.render` hands every template ``_`` and ``pgettext`` for its reader::

    {{ _('手头任务 %(count)d 件', count=p.open_tasks) }}
    {{ pgettext('button', '筛选') }}

Placeholders are named so a translator may reorder them. ``pgettext`` is for a Chinese word
that needs a second English one in another place (筛选: "Filters" above a form, "Filter" on its
button): the context tells the two apart and shows the translator where the word sits.

Python modules mark words they translate later, per reader, with :func:`N_` (or
:func:`pgettext_noop` with a context); extraction finds them, and at run time they return what
they were given.
"""

from __future__ import annotations

import gettext
from dataclasses import dataclass

from foundation.catalogs import translations

__all__ = ["DOMAIN", "N_", "Words", "pgettext_noop", "words_for"]

DOMAIN = "web"
# The pages' language codes (server.web.common.LANGS) as catalog languages.
_CATALOG_LANGUAGE = {"zh": "zh_CN", "en": "en"}


def N_(message: str) -> str:
    """Mark ``message`` for the catalog; it is translated where it is shown."""
    return message


def pgettext_noop(context: str, message: str) -> tuple[str, str]:
    """Mark ``message`` with a context; show it with ``words.pgettext(*marked)``."""
    return context, message


@dataclass(frozen=True)
class Words:
    """gettext for one reader, with named ``%(name)s`` placeholders filled from keywords."""

    catalog: gettext.NullTranslations

    def gettext(self, message: str, /, **values: object) -> str:
        text = self.catalog.gettext(message)
        return text % values if values else text

    def pgettext(self, context: str, message: str, /, **values: object) -> str:
        text = self.catalog.pgettext(context, message)
        return text % values if values else text


def words_for(lang: str) -> Words:
    """The words for a page language (``zh`` or ``en``); catalogs are read once per process."""
    return Words(translations(DOMAIN, _CATALOG_LANGUAGE[lang]))
