"""Per-request audit context: correlation id and acting session user."""

from audit.context import acting_as, clean_correlation_id, new_correlation_id

REQUEST_ID_HEADER = "X-Request-ID"


class AuditContextMiddleware:
    """Give every request a correlation id and make its session user the audit actor.

    Placed after AuthenticationMiddleware (and after django-auditlog's middleware, which it
    refines). A well-formed `X-Request-ID` from the client or proxy is kept so that logs on both
    sides line up; anything else is replaced by a new UUID. The remote address is REMOTE_ADDR:
    auditlog's own middleware believes any `X-Forwarded-For`, which a client can forge.
    API views, which authenticate by key after this middleware ran, set their user with
    `audit.context.acting_as`.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        correlation_id = clean_correlation_id(request.headers.get(REQUEST_ID_HEADER)) or new_correlation_id()
        request.correlation_id = correlation_id
        user = getattr(request, "user", None)
        with acting_as(user, correlation_id=correlation_id, remote_addr=request.META.get("REMOTE_ADDR")):
            response = self.get_response(request)
        response[REQUEST_ID_HEADER] = correlation_id
        return response
