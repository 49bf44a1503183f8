"""The API's errors: a status and a stable machine-readable code, answered as
{"error": {"code": ..., "message": ...}}. Clients branch on the code; the message is for people."""

from shop.errors import MarketplaceError

# The codes a client may see, by the status they come with when nothing more precise is known
# (bottle's own 404 and 405, an id the route filter refused).
CODE_OF_STATUS = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    411: "length_required",
    413: "payload_too_large",
    429: "rate_limited",
    500: "internal_error",
}


class ApiError(MarketplaceError):
    def __init__(self, status, code, message, headers=None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.headers = headers or {}


def error_body(status, message, code=None):
    """The JSON body of an API error."""
    return {"error": {"code": code or CODE_OF_STATUS.get(status, "error"), "message": message}}


def unauthorized(message, code="unauthorized"):
    return ApiError(401, code, message, {"WWW-Authenticate": 'Bearer realm="api"'})


def forbidden(message, code="forbidden"):
    return ApiError(403, code, message)


def not_found(message="There is no such resource, or it is not yours."):
    return ApiError(404, "not_found", message)


def invalid_parameter(name, message):
    return ApiError(400, "invalid_parameter", f"{name}: {message}")
