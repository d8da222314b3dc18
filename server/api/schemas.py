"""The HTTP contract: every body that crosses the wire, as one family of pydantic models.

Names follow one pattern: ``XCreate`` comes in, ``XPublic`` goes out, ``XsPublic`` is a list.
Limits here are the first line of defence: anything longer, odder or bigger is a 422 before any
service sees it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Code = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")]
ShortText = Annotated[str, StringConstraints(max_length=40)]
Note = Annotated[str, StringConstraints(max_length=500)]
Token = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{16,64}$")]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorPublic(BaseModel):
    error: ErrorDetail


class HealthPublic(BaseModel):
    status: Literal["ok", "degraded"]
    database: str
    # "ok", or "failed" when a small file cannot be written in the data folder (a full disk).
    disk_write: Literal["ok", "failed"]
    disk_free_bytes: int
    problem: str = ""


class SitePublic(BaseModel):
    id: str
    name_zh: str
    name_en: str
    phone: str
    public_url: str
    # "lan": links to public_url open only on the service point's own network (foundation/reach.py)
    links_reachable: Literal["lan", "anywhere"] = "anywhere"


class ChoicePublic(BaseModel):
    key: str
    zh: str
    en: str


class QuestionPublic(BaseModel):
    code: str
    label_zh: str
    label_en: str
    required: bool
    choices: list[ChoicePublic]


class CategoryPublic(BaseModel):
    code: str
    name_zh: str
    name_en: str
    skill: str
    target_hours: int
    kiosk: bool
    questions: list[QuestionPublic]
    # Done at a time the resident picks: GET /api/v1/slots?category=<code> lists them.
    by_appointment: bool = False


class CategoriesPublic(BaseModel):
    categories: list[CategoryPublic]


class SlotPublic(BaseModel):
    """A published appointment slot; a full one has ``remaining`` 0 (shown greyed, 已满)."""

    id: int
    starts_at: datetime  # aware, UTC
    ends_at: datetime
    capacity: int
    remaining: int


class SlotsPublic(BaseModel):
    slots: list[SlotPublic]


class UnitPublic(BaseModel):
    code: str
    name: str


class BuildingPublic(BaseModel):
    code: str
    name: str
    units: list[UnitPublic]
    floors: int | None = None  # how many floors, when staff have said


class CompoundPublic(BaseModel):
    code: str
    name_zh: str
    name_en: str
    buildings: list[BuildingPublic]


class PlacesPublic(BaseModel):
    compounds: list[CompoundPublic]


class RequestCreate(_In):
    client_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{8,64}$")]
    category: Code
    unit_code: Code
    answers: Annotated[dict[ShortText, ShortText], Field(max_length=20)] = {}
    description: Note = ""
    contact_name: ShortText = ""
    contact_phone: Annotated[str, StringConstraints(pattern=r"^1\d{10}$")] | None = None
    channel: Literal["kiosk", "phone", "web", "staff"] = "kiosk"
    # Optional: the floor (楼层) and the door (房号), as the resident gave them.
    floor: Annotated[str, StringConstraints(max_length=10, strip_whitespace=True)] = ""
    room: Annotated[str, StringConstraints(max_length=20, strip_whitespace=True)] = ""
    number: Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9]{0,3}-\d{4,8}$")] | None = None
    phone_token: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{32,64}$")] | None = None
    # Required for a category by appointment (422 slot_required / slot_invalid, 409 slot_full).
    slot_id: int | None = Field(default=None, ge=1, le=2**31 - 1)


class HistoryEntryPublic(BaseModel):
    at: datetime
    action: str
    status: str
    actor: str


class RequestPublic(BaseModel):
    number: str
    status: str
    category: str
    category_name_zh: str
    category_name_en: str
    place: str
    created_at: datetime
    volunteer_given_name: str | None
    overdue: bool
    history: list[HistoryEntryPublic]
    rating: int | None
    phone_token: str | None = None
    status_url: str | None = None
    # The booked slot's start, for a request by appointment (None once the place is given back).
    appointment_at: datetime | None = None


class ConfirmCreate(_In):
    rating: int = Field(ge=1, le=5)
    comment: Note = ""


class CancelCreate(_In):
    reason: Note = ""


class RequestLookupCreate(_In):
    # As typed (K1-0001, k1 - 0001): the lookup normalises it (server/services/lookup.py).
    number: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    # Left out only for a request filed without a phone.
    phone_last4: Annotated[str, StringConstraints(pattern=r"^\d{4}$")] | None = None


class RequestLookupPublic(BaseModel):
    number: str
    status: str
    status_label_zh: str
    status_label_en: str
    category_name_zh: str
    category_name_en: str
    volunteer_given_name: str | None
    filed_at: datetime
    status_url: str
    # The start of the booked visit, for a service by appointment (None otherwise).
    appointment_at: datetime | None = None


class LoginCreate(_In):
    username: Annotated[str, StringConstraints(min_length=1, max_length=60)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class LoginPublic(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    role: str
    display_name: str


class TicketEventPublic(BaseModel):
    at: datetime
    action: str
    from_status: str | None
    to_status: str
    actor: str
    note: str


class TicketPublic(BaseModel):
    id: int
    number: str
    kind: str
    category: str
    title: str
    status: str
    priority: str
    squad: str | None
    place: str
    asset_id: str | None
    condition: str | None
    assignee_id: int | None
    assignee_given_name: str | None
    created_at: datetime
    due_at: datetime | None
    overdue: bool


class TicketsPublic(BaseModel):
    tickets: list[TicketPublic]
    count: int


class TicketDetailPublic(TicketPublic):
    answers: dict[str, str]
    description: str
    contact_name: str
    contact_phone_masked: str | None
    # The full number only for whom it is for: staff, the squad's leader, and the volunteer who
    # accepted the task until it closes; each time it is given out is logged.
    contact_phone: str | None = None
    floor: str = ""
    room: str = ""
    dispatch_note: str = ""
    rating: int | None
    rating_comment: str | None
    history: list[TicketEventPublic]
    allowed_actions: list[str]


class ProposalPublic(BaseModel):
    volunteer_id: int
    given_name: str
    squad: str | None
    skills: list[str]
    party_member: bool
    open_tasks: int
    in_squad: bool


class ProposalsPublic(BaseModel):
    proposals: list[ProposalPublic]


class DispatchCreate(_In):
    volunteer_id: int = Field(ge=1, le=2**31 - 1)
    note: Note = ""


class NoteCreate(_In):
    note: Note = ""


class DuplicateCreate(_In):
    of_ticket_id: int = Field(ge=1, le=2**31 - 1)
    note: Note = ""


class TasksPublic(BaseModel):
    current: list[TicketPublic]
    history: list[TicketPublic]


class MonthlyFigurePublic(BaseModel):
    month: str
    category: str
    squad: str | None
    requests: int
    residents: int
    completed: int
    median_hours_to_accept: float | None
    median_hours_to_resolve: float | None


class MonthlyFiguresPublic(BaseModel):
    year: int
    figures: list[MonthlyFigurePublic]
