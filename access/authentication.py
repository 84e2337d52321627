"""`Authorization: Api-Key <prefix>.<secret>` for organisations' API clients."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from access import services

KEYWORD = "Api-Key"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """Authenticates as the key's person (`ApiKey.user`); `request.auth` is the `ApiKey`.

    A request without this scheme is left to the next authenticator (session, for the docs);
    a request with it and a bad, expired or revoked key is refused outright, with one message
    for all cases so that nothing tells a guesser which part was wrong.
    """

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        scheme, _, value = header.partition(" ")
        if scheme.lower() != KEYWORD.lower():
            return None
        key = services.api_key_verify(value.strip())
        if key is None:
            raise exceptions.AuthenticationFailed("接口密钥无效、已过期或已吊销", code="invalid_api_key")
        services.api_key_touch(key)
        return key.user, key

    def authenticate_header(self, request):
        return KEYWORD


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "access.authentication.ApiKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Api-Key <prefix>.<secret>` (issued by the commission or the organisation's administrator)",
        }
