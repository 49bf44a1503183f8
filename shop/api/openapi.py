"""The API's operations and the OpenAPI 3.1 document made from them.

Each route of /api/v1 is one Operation: its method, path, scope, parameters, body and
answer. The web layer registers its routes from the same list, so the document
describes exactly the routes that exist (the suite checks both ways).
"""

import dataclasses
from typing import Callable

from shop.api import schemas
from shop.api.errors import CODE_OF_STATUS

API_PREFIX = "/api/v1"


@dataclasses.dataclass(frozen=True)
class Operation:
    method: str
    path: str            # as OpenAPI writes it: /api/v1/products/{id}
    operation_id: str
    summary: str
    scope: str | None    # None: no token needed (the document itself)
    params: tuple
    response: dict       # the schema of the 200 answer
    handler: Callable
    request_body: dict | None = None

    @property
    def route_path(self):
        """The path as bottle writes it."""
        return self.path.replace("{", "<").replace("}", ">")


ERROR_RESPONSE = {"description": "An error with a stable code.",
                  "content": {"application/json": {"schema": schemas.ref("Error")}}}


def _operation_document(operation):
    responses = {"200": {"description": operation.summary,
                         "content": {"application/json": {"schema": operation.response}}}}
    statuses = [400, 404, 429, 500] + ([401, 403] if operation.scope else [])
    if operation.method != "GET":
        statuses.append(405)
    for status in sorted(statuses):
        responses[str(status)] = dict(ERROR_RESPONSE, description=CODE_OF_STATUS[status].replace("_", " "))
    document = {"operationId": operation.operation_id, "summary": operation.summary,
                "parameters": [param.document() for param in operation.params], "responses": responses}
    if operation.scope:
        document["security"] = [{"bearer": [operation.scope]}]
        document["x-scope"] = operation.scope
    else:
        document["security"] = []
    if operation.request_body is not None:
        document["requestBody"] = {"required": True,
                                   "content": {"application/json": {"schema": operation.request_body}}}
    return document


def build_document(operations, app_name, server_url):
    paths = {}
    for operation in operations:
        paths.setdefault(operation.path, {})[operation.method.lower()] = _operation_document(operation)
    return {
        "openapi": "3.1.0",
        "info": {"title": f"{app_name} API", "version": "1",
                 "description": "Send a personal access token (made on the account page) as "
                                "`Authorization: Bearer <token>`. Lists are newest first, a page at a time: "
                                "pass the answer's next_cursor as `cursor` for the next page. Every answer "
                                "carries RateLimit-Limit, RateLimit-Remaining and RateLimit-Reset."},
        "servers": [{"url": server_url}],
        "paths": paths,
        "components": {"schemas": schemas.COMPONENTS,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }
