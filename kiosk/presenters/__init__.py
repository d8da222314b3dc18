"""What each kiosk screen says, worked out from the flow with no Kivy: the screens' words and lists.

A screen's ``refresh`` asks a function here for its texts and rows and copies them onto its
widgets; the Kivy side keeps only the widgets. So the wording rules (how a refusal reads, which
tank lines a staff member sees first, how a book's renewals are shown) are tested as plain
functions (tests/kiosk/test_kiosk_presenters.py) and checked with ``mypy --strict``::

    page = choice_page(flow, "zh_CN", page=0)     # the buttons of the choice screen
    view = outcome_view("en", flow.visit)         # the answer to the last scan

One module per journey, as kiosk.screens: ``shared`` (paging, the step counter, the keypad),
``request``, ``library`` and ``staff``. Words come from :mod:`kiosk.i18n`; ``sp`` is the
screen's scale for text sizes written into markup (``[size=…]``), which Kivy cannot scale.
"""

from kiosk.presenters.library import (
    LoanLine,
    LoansView,
    OutcomeView,
    borrow_status,
    hello,
    loans_view,
    outcome_view,
    receipt_lines,
    returned_count,
    visit_lines,
)
from kiosk.presenters.request import (
    SKIP,
    ChoicePage,
    choice_page,
    choices,
    home_columns,
    review_lines,
)
from kiosk.presenters.shared import (
    KEYPAD,
    KeypadView,
    keypad_label,
    keypad_view,
    page_of,
    problem_text,
    progress_text,
)
from kiosk.presenters.staff import StaffPanelView, staff_panels, staff_state

__all__ = [
    "KEYPAD",
    "SKIP",
    "ChoicePage",
    "KeypadView",
    "LoanLine",
    "LoansView",
    "OutcomeView",
    "StaffPanelView",
    "borrow_status",
    "choice_page",
    "choices",
    "hello",
    "home_columns",
    "keypad_label",
    "keypad_view",
    "loans_view",
    "outcome_view",
    "page_of",
    "problem_text",
    "progress_text",
    "receipt_lines",
    "returned_count",
    "review_lines",
    "staff_panels",
    "staff_state",
    "visit_lines",
]
