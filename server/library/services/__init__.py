"""Library services: the pure rules in ``rules`` applied to the tables in ``models``.

One module a desk task, all re-exported here (callers write ``services.borrow(...)``)::

    common      errors, PIN hashing, the service point's day, copy and loan lookups
    patrons     enrolling readers, PINs, identifying a reader at the kiosk
    lending     borrowing, renewing, returning, holds
    records     lists for staff and the phone page, the daily reminder job
    catalogue   the CSV catalog import, printed labels and cards

Routes and commands call these; nothing here knows about HTTP. Every function takes keyword-only
arguments, is handed ``now`` (never reads the clock) and commits its own work. A rule's "no"
becomes :class:`LendingRefused`, a server error whose ``code`` is the rule's reason code, so the
API layer answers it as a 4xx JSON error and the kiosk can show the Chinese or English words.

Errors::

    ServerError (server.errors)
    └── LendingRefused                       code = rules.Reason value
        ├── PatronOrCopyNotFound(LookupError)   404  unknown_copy, unknown_patron, not_your_loan
        ├── LendingConflict(ValueError)         409  on_loan, limit_reached, overdue_block, …
        ├── PinRefused(PermissionError)         401  wrong_pin
        └── PinThrottled(RuntimeError)          429  pin_throttled
"""

from server.library.services.catalogue import (
    ImportReport,
    copies_to_label,
    decode_catalog,
    import_catalog,
    mark_cards_printed,
    mark_labelled,
    patrons_for_cards,
)
from server.library.services.common import (
    DEFAULT_TZ,
    SESSION_EXPIRED,
    LendingConflict,
    LendingRefused,
    PatronOrCopyNotFound,
    PinRefused,
    PinThrottled,
    hash_pin,
    local_today,
    open_loans,
    refuse,
    verify_pin,
)
from server.library.services.lending import (
    ReturnResult,
    borrow,
    cancel_hold,
    hold_queue,
    place_hold,
    renew,
    return_copy,
)
from server.library.services.patrons import (
    end_session,
    enrol_patron,
    enrol_walk_in,
    identify,
    patron_by_card,
    patron_by_phone_token,
    session_patron,
    set_pin,
)
from server.library.services.records import (
    ReminderSummary,
    catalog,
    copies_on_loan,
    loan_history,
    overdue_loans,
    patron_holds,
    patron_reminders,
    reminder_counts,
    run_daily_reminders,
)

__all__ = [
    "decode_catalog",
    "hash_pin",
    "verify_pin",
    "DEFAULT_TZ",
    "ImportReport",
    "LendingConflict",
    "LendingRefused",
    "PatronOrCopyNotFound",
    "PinRefused",
    "PinThrottled",
    "ReminderSummary",
    "ReturnResult",
    "SESSION_EXPIRED",
    "borrow",
    "cancel_hold",
    "catalog",
    "copies_to_label",
    "end_session",
    "enrol_patron",
    "enrol_walk_in",
    "hold_queue",
    "identify",
    "import_catalog",
    "loan_history",
    "local_today",
    "mark_cards_printed",
    "mark_labelled",
    "copies_on_loan",
    "open_loans",
    "overdue_loans",
    "patron_by_card",
    "patron_by_phone_token",
    "patron_holds",
    "patron_reminders",
    "patrons_for_cards",
    "refuse",
    "place_hold",
    "reminder_counts",
    "renew",
    "return_copy",
    "run_daily_reminders",
    "session_patron",
    "set_pin",
]
