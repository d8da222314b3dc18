"""Errors the server raises on purpose, each mapped to one HTTP status by the API layer::

    ServicepointError
    └── ServerError
        ├── NotFound(LookupError)            404
        ├── Forbidden(PermissionError)       403
        ├── NotAuthenticated(PermissionError) 401
        ├── Invalid(ValueError)              422  (passed the schema, but wrong for the domain)
        ├── Conflict(ValueError)             409  (e.g. a request number already taken)
        ├── IllegalTransition(ValueError)    409  (the ticket lifecycle refuses the action)
        └── Throttled(RuntimeError)          429
"""

from foundation.errors import ServicepointError

__all__ = [
    "Conflict",
    "Forbidden",
    "IllegalTransition",
    "Invalid",
    "NotAuthenticated",
    "NotFound",
    "ServerError",
    "Throttled",
]


class ServerError(ServicepointError):
    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class NotFound(ServerError, LookupError):
    status_code = 404
    code = "not_found"


class Forbidden(ServerError, PermissionError):
    status_code = 403
    code = "forbidden"


class NotAuthenticated(ServerError, PermissionError):
    status_code = 401
    code = "not_authenticated"


class Invalid(ServerError, ValueError):
    status_code = 422
    code = "invalid"


class Conflict(ServerError, ValueError):
    status_code = 409
    code = "conflict"


class IllegalTransition(ServerError, ValueError):
    status_code = 409
    code = "illegal_transition"


class Throttled(ServerError, RuntimeError):
    status_code = 429
    code = "too_many_attempts"
