"""Declared query parameters: one declaration both reads the request and describes it in
the OpenAPI document, so the two cannot disagree."""

import dataclasses
import datetime

from shop.api.errors import invalid_parameter
from shop.api.pagination import DEFAULT_LIMIT, MAX_LIMIT

MAX_ID = 2 ** 31 - 1


@dataclasses.dataclass(frozen=True)
class Param:
    name: str
    schema: dict
    description: str
    location: str = "query"

    def document(self):
        return {"name": self.name, "in": self.location, "required": self.location == "path",
                "description": self.description, "schema": self.schema}

    def read(self, text):
        """The value of `text` (a str, or None when absent) as this parameter's type."""
        if text is None or text == "":
            return self.schema.get("default")
        kind = self.schema.get("type")
        if kind == "integer":
            try:
                number = int(text)
            except ValueError:
                raise invalid_parameter(self.name, "must be a whole number.") from None
            low, high = self.schema.get("minimum", 0), self.schema.get("maximum", MAX_ID)
            if not low <= number <= high:
                raise invalid_parameter(self.name, f"must be from {low} to {high}.")
            return number
        if self.schema.get("format") == "date-time":
            return _read_time(self.name, text)
        if "enum" in self.schema and text not in self.schema["enum"]:
            raise invalid_parameter(self.name, f"must be one of {', '.join(self.schema['enum'])}.")
        if len(text) > self.schema.get("maxLength", 2000):
            raise invalid_parameter(self.name, "is too long.")
        return text


def _read_time(name, text):
    """An ISO 8601 time as naive UTC (the shop's times); a time without zone is taken as UTC."""
    try:
        moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise invalid_parameter(name, "must be an ISO 8601 date-time such as 2026-01-31T12:00:00Z.") from None
    if moment.tzinfo is not None:
        try:
            moment = moment.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        except OverflowError:
            raise invalid_parameter(name, "is out of range.") from None
    return moment


def id_param(description):
    return Param("id", {"type": "integer", "minimum": 0, "maximum": MAX_ID}, description, "path")


LIST_PARAMS = (
    Param("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
          "How many items a page holds."),
    Param("cursor", {"type": "string", "maxLength": 500}, "The next_cursor of the previous page."),
    Param("created_after", {"type": "string", "format": "date-time"}, "Only items made after this time."),
    Param("created_before", {"type": "string", "format": "date-time"}, "Only items made before this time."),
)
