"""Passwords, session tokens and login throttling.

Passwords are hashed with Argon2id (argon2-cffi's defaults). A session token is 256 random bits
given to the client once; the database keeps only its SHA-256, so a copied database holds no
usable token. Failed logins are counted in the database, so throttling holds across replicas.

Throttling (:func:`authenticate`) is keyed so that nobody can lock anyone else out: wrong
passwords count per (username, address) and per address, with a ceiling over all addresses
against a spread-out guess; a right password from another address still gets in. An attempt
writes its failure rows *before* its password is checked and counts after that write, so
parallel attempts see each other and no more than the limit are ever checked. Each Argon2 check
takes 64 MiB, so at most ``_CONCURRENT_CHECKS`` run at once; the rest wait their turn.

How long a session lasts depends on who holds it (:func:`session_terms`): staff and admins keep
the fixed ``security.session_hours``; squad leaders and volunteers, who open the page on their
phone twice a week, get ``security.field_session_days`` that slide forward each time they use
it. A person may change their password and sign out everywhere (:func:`change_password`,
:func:`close_all_sessions`).
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from server.errors import Invalid, NotAuthenticated, Throttled
from server.models import LoginFailure, Role, User, UserSession
from server.sites.scoping import scope_user_session

__all__ = [
    "MIN_PASSWORD",
    "SessionTerms",
    "authenticate",
    "change_password",
    "close_all_sessions",
    "hash_password",
    "new_phone_token",
    "open_session",
    "close_session",
    "session_terms",
    "user_for_token",
    "verify_password",
]

MIN_PASSWORD = 8
# A sliding session is moved forward at most this often, so a busy page is not a write per view.
_SLIDE_STEP = timedelta(hours=1)
_FIELD_ROLES = frozenset({Role.SQUAD_LEADER, Role.VOLUNTEER})


@dataclass(frozen=True)
class SessionTerms:
    lifetime: timedelta
    sliding: bool


def session_terms(role: str, *, staff_hours: int, field_days: int) -> SessionTerms:
    """Phones in the field: long and sliding; desks (staff, admin): fixed hours."""
    if role in _FIELD_ROLES:
        return SessionTerms(timedelta(days=field_days), sliding=True)
    return SessionTerms(timedelta(hours=staff_hours), sliding=False)

# One address may try a few usernames (a shared desk PC) before it is held back as a whole.
_PER_ADDRESS_FACTOR = 4
# Wrong passwords from every address together, per window: a spread-out guess stops here. Far
# above what a service point's twenty people mistype.
_GLOBAL_CEILING = 200
_CONCURRENT_CHECKS = 2
_checks = threading.BoundedSemaphore(_CONCURRENT_CHECKS)

_hasher = PasswordHasher()
# Verified against when the username is unknown, so timing does not tell which usernames exist.
_DUMMY_HASH = _hasher.hash("no such user")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    with _checks:  # bounded: each check holds 64 MiB while it runs
        try:
            return _hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False


def new_phone_token() -> str:
    """An unguessable token for a request's phone link: 192 random bits, URL-safe."""
    return secrets.token_urlsafe(24)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _throttle_keys(username: str, address: str) -> tuple[str, str]:
    """The two rows a failure writes (``LoginFailure.username`` holds a key, not a name): the
    pair hashed (an IPv6 address and a username would not fit 60 characters), and the address.
    Every attempt writes exactly one ``a:`` row, so counting them all is the global count."""
    pair = hashlib.sha256(f"{username}\0{address}".encode()).hexdigest()[:40]
    return f"u:{pair}", f"a:{address[:57]}"


def authenticate(
    db: Session, *, username: str, password: str, address: str, now: datetime, attempts: int,
    window_s: int,
) -> User:
    """The active user with these credentials, asked from ``address``; Throttled after too many
    recent failures from there, or everywhere."""
    pair_key, address_key = _throttle_keys(username, address)
    mine = [LoginFailure(username=pair_key, at=now), LoginFailure(username=address_key, at=now)]
    db.add_all(mine)
    db.commit()  # counted by every attempt from now on, this one included

    since = now - timedelta(seconds=window_s)

    def recent(*where: object) -> int:
        return db.scalar(select(func.count()).select_from(LoginFailure)
                         .where(LoginFailure.at > since, *where)) or 0  # type: ignore[arg-type]

    if (recent(LoginFailure.username == pair_key) > attempts
            or recent(LoginFailure.username == address_key) > attempts * _PER_ADDRESS_FACTOR
            or recent(LoginFailure.username.like("a:%")) > _GLOBAL_CEILING):
        _forget(db, mine)  # a refusal is not a guess: it must not lengthen anyone's wait
        raise Throttled("too many failed sign-ins; wait a few minutes and try again")
    user = db.scalar(select(User).where(User.username == username))
    ok = verify_password(user.password_hash if user else _DUMMY_HASH, password)
    if not ok or user is None or not user.active:
        db.execute(delete(LoginFailure).where(LoginFailure.at <= since))
        db.commit()
        raise NotAuthenticated("wrong username or password")
    # Right: this pair starts afresh; the address keeps its other usernames' failures.
    db.execute(delete(LoginFailure).where(or_(
        LoginFailure.username == pair_key, LoginFailure.id == mine[1].id)))
    return user


def _forget(db: Session, rows: list[LoginFailure]) -> None:
    db.execute(delete(LoginFailure).where(LoginFailure.id.in_([row.id for row in rows])))
    db.commit()


def open_session(db: Session, *, user: User, now: datetime, hours: int,
                 terms: SessionTerms | None = None) -> str:
    """A new session for ``user``: ``terms`` if given, else ``hours``, fixed."""
    terms = terms or SessionTerms(timedelta(hours=hours), sliding=False)
    token = secrets.token_urlsafe(32)
    db.add(UserSession(token_hash=_digest(token), user_id=user.id, created_at=now,
                       expires_at=now + terms.lifetime,
                       slide_s=int(terms.lifetime.total_seconds()) if terms.sliding else None))
    db.commit()
    return token


def close_session(db: Session, *, token: str) -> None:
    db.execute(delete(UserSession).where(UserSession.token_hash == _digest(token)))
    db.commit()


def close_all_sessions(db: Session, *, user: User) -> int:
    """Sign ``user`` out everywhere; the caller commits. Returns how many sessions ended."""
    count: int = db.execute(
        delete(UserSession).where(UserSession.user_id == user.id)).rowcount  # type: ignore[attr-defined]
    return count


def change_password(db: Session, *, user: User, current: str, new: str) -> None:
    """Set a new password after checking the current one; every other session ends too (the
    caller opens a fresh one for this device). Invalid if the new one is too short."""
    if not verify_password(user.password_hash, current):
        raise NotAuthenticated("the current password is wrong")
    if len(new) < MIN_PASSWORD or len(new) > 200:
        raise Invalid(f"the new password needs {MIN_PASSWORD} to 200 characters")
    user.password_hash = hash_password(new)
    close_all_sessions(db, user=user)
    db.commit()


def user_for_token(db: Session, *, token: str, now: datetime) -> User:
    session = db.scalar(select(UserSession).where(UserSession.token_hash == _digest(token)))
    if session is None or session.expires_at <= now or not session.user.active:
        raise NotAuthenticated("not signed in, or the session has expired")
    if session.slide_s is not None:
        renewed = now + timedelta(seconds=session.slide_s)
        if renewed - session.expires_at >= _SLIDE_STEP:
            session.expires_at = renewed
            db.commit()
    # From here on the request's session sees only the user's sites (server/sites/).
    scope_user_session(db, session.user)
    return session.user
