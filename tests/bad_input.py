"""Helpers for the bad-input suites (tests/test_bad_input_*.py).

Every hostile request there must be answered with a clear 4xx or a message,
store nothing, leave nothing half-written, and leave the process serving:
`still_serving` is called after each one, and `database_snapshot` compares
every table before and after where "nothing changed" is the promise.
"""

import models
from tests.catalog_helpers import media_files, uploaded_files

# Values that have broken web apps: SQL and LIKE metacharacters, template syntax
# of several engines, markup, right-to-left text, emoji, combining marks.
HOSTILE_TEXT = [
    "'; DROP TABLE users; --",
    "Robert'); DROP TABLE products;--",
    "100% _off_ \\ back\\slash",
    "{{ 7*7 }} {% if 1 %}x{% endif %} <% 7*7 %> ${7*7} #{7*7}",
    "<script>alert('x')</script><img src=x onerror=alert(1)>",
    "\u202eevil\u202c \u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627",
    "Emoji 🎧🎶👩🏽‍💻 and flags 🇮🇳",
    "Zalgo z\u0351\u0358a\u0336l\u0315g\u0340o and e\u0301 vs \u00e9",
]

# Markers that must never reach a page unescaped.
RAW_MARKUP = ["<script>alert", "<img src=x"]


def still_serving(client):
    """After a hostile request, an ordinary page still answers."""
    response = client.get("/", expect_errors=True)
    assert response.status_int == 200, response.status
    return response


def database_snapshot():
    """Every row of every table, for comparing before and after a refused request."""
    snapshot = {}
    for model in models.all_models():
        rows = model.select().order_by(*[field.asc() for field in model._meta.sorted_fields[:1]]).tuples()
        snapshot[model._meta.table_name] = [tuple(str(value) for value in row) for row in rows]
    return snapshot


def stored_files():
    """Everything under the upload and media folders."""
    return uploaded_files() + media_files()


def clear_error(response, status=400):
    """A 4xx with a message the visitor can read, never a traceback."""
    assert response.status_int == status, (response.status, response.text[:500])
    assert "Traceback" not in response.text and "Something went wrong on our side" not in response.text
    return response
