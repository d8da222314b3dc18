"""Passwords, session tokens and login throttling.

Passwords are hashed with Argon2id (argon2-cffi's defaults). A session token is 256 random bits
given to the client once; the database keeps only its SHA-256, so a copied database holds no
usable token. Failed logins are counted in the database, so throttling holds across replicas.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from server.errors import NotAuthenticated, Throttled
from server.models import LoginFailure, User, UserSession

__all__ = [
    "authenticate",
    "hash_password",
    "new_phone_token",
    "open_session",
    "close_session",
    "user_for_token",
    "verify_password",
]

_hasher = PasswordHasher()
# Verified against when the username is unknown, so timing does not tell which usernames exist.
_DUMMY_HASH = _hasher.hash("no such user")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_phone_token() -> str:
    """An unguessable token for a request's phone link: 192 random bits, URL-safe."""
    return secrets.token_urlsafe(24)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def authenticate(
    db: Session, *, username: str, password: str, now: datetime, attempts: int, window_s: int
) -> User:
    """The active user with these credentials; Throttled after too many recent failures."""
    since = now - timedelta(seconds=window_s)
    failures = db.scalar(
        select(func.count()).select_from(LoginFailure)
        .where(LoginFailure.username == username, LoginFailure.at > since)
    ) or 0
    if failures >= attempts:
        raise Throttled("too many failed sign-ins; wait a few minutes and try again")
    user = db.scalar(select(User).where(User.username == username))
    ok = verify_password(user.password_hash if user else _DUMMY_HASH, password)
    if not ok or user is None or not user.active:
        db.add(LoginFailure(username=username[:60], at=now))
        db.commit()
        raise NotAuthenticated("wrong username or password")
    db.execute(delete(LoginFailure).where(LoginFailure.username == username))
    return user


def open_session(db: Session, *, user: User, now: datetime, hours: int) -> str:
    token = secrets.token_urlsafe(32)
    db.add(UserSession(token_hash=_digest(token), user_id=user.id, created_at=now,
                       expires_at=now + timedelta(hours=hours)))
    db.commit()
    return token


def close_session(db: Session, *, token: str) -> None:
    db.execute(delete(UserSession).where(UserSession.token_hash == _digest(token)))
    db.commit()


def user_for_token(db: Session, *, token: str, now: datetime) -> User:
    session = db.scalar(select(UserSession).where(UserSession.token_hash == _digest(token)))
    if session is None or session.expires_at <= now or not session.user.active:
        raise NotAuthenticated("not signed in, or the session has expired")
    return session.user
