"""Every API error as `{"error": {"code": ..., "message": ..., "field": ...}}`.

`field` names the offending input (a body field, a query parameter, or a header such as
`X-Purpose`) or is null. DRF's own handler runs first, so its headers (`Retry-After` on 429,
`WWW-Authenticate` on 401) are kept.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

NOT_FOUND_MESSAGE = "未找到该电子证照或无权查看"


class ApiError(exceptions.APIException):
    """An error with an explicit code, message, status and (optionally) the field at fault."""

    def __init__(self, *, code: str, message: str, status_code: int = 400, field: str | None = None):
        super().__init__(detail=message, code=code)
        self.status_code = status_code
        self.error_code = code
        self.field = field


def not_found() -> ApiError:
    """The one answer for a licence that does not exist and for one the caller may not see."""
    return ApiError(code="not_found", message=NOT_FOUND_MESSAGE, status_code=404)


def _first(detail, path=()):
    """(field path, message, code) of the first error in a DRF error structure."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            return _first(value, (*path, str(key)))
    if isinstance(detail, list) and detail:
        return _first(detail[0], path)
    code = getattr(detail, "code", None) or "invalid"
    return (".".join(p for p in path if p != "non_field_errors") or None, str(detail), code)


def api_exception_handler(exc, context):
    if isinstance(exc, Http404):
        exc = not_found()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    response = exception_handler(exc, context)
    if response is None:
        return None  # a real server error: let Django log it and answer 500
    if isinstance(exc, ApiError):
        field, message, code = exc.field, str(exc.detail), exc.error_code
    elif isinstance(exc, exceptions.ValidationError):
        field, message, code = _first(exc.detail)
    else:
        field = None
        message = str(exc.detail) if not isinstance(exc.detail, (dict, list)) else _first(exc.detail)[1]
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else exc.default_code
    if isinstance(exc, exceptions.Throttled):
        code = "rate_limited"
    body = {"error": {"code": code, "message": message, "field": field}}
    headers = {h: response[h] for h in ("Retry-After", "WWW-Authenticate") if h in response}
    return Response(body, status=response.status_code or status.HTTP_400_BAD_REQUEST, headers=headers)
