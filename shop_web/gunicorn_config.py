"""Gunicorn's settings module for the web unit (`gunicorn --config python:shop_web.gunicorn_config`).

It switches off gunicorn's control socket and holds one hook: before gunicorn starts any worker, the master checks that the
database's schema is the one this code needs, and exits with one line that says
what to run if not. Importing marketplace:app never checks (the workers import
it, and so do the tests); starting the server does. `marketplace serve` makes
the same check itself.
"""

from shop.operations import schema

# gunicorn 27 opens a control socket, under $HOME/.gunicorn/ (shared by every
# gunicorn of the user) unless XDG_RUNTIME_DIR is set; the shop does not use it.
# Older gunicorns ignore the name.
control_socket_disable = True


def on_starting(server):
    schema.refuse_to_start_unless_current()
