"""Gunicorn's settings module for the web unit (`gunicorn --config python:shop_web.gunicorn_config`).

It switches off gunicorn's control socket and holds one hook: before gunicorn
starts any worker, the master checks that the database's schema is the one this
code needs, and exits with one line that says what to run if not; it also warns
when APP_URL does not lead to this server (see shop/operations/reachability.py).
Importing marketplace:app never checks (the workers import it, and so do the
tests); starting the server does. `marketplace serve` makes the same checks itself.
"""

# Not `config`: gunicorn reads every module-level name here that is one of its settings.
from shop import config as shop_settings
from shop.operations import reachability  # in the master, before the workers fork
from shop.operations import schema

# gunicorn 27 opens a control socket, under $HOME/.gunicorn/ (shared by every
# gunicorn of the user) unless XDG_RUNTIME_DIR is set; the shop does not use it.
# Older gunicorns ignore the name.
control_socket_disable = True


def on_starting(server):
    schema.refuse_to_start_unless_current()
    for address in server.cfg.bind:
        reachability.check_before_serving(shop_settings.APP_URL, address)


def when_ready(server):
    """Once listening: does APP_URL reach this server? (A warning, never a refusal.)"""
    reachability.start_checking(shop_settings.APP_URL)
