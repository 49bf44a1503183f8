"""The `marketplace` command: set-up, serving, demo data, users, and the queue.

    marketplace init                  create data/ and migrate the database (idempotent)
    marketplace migrate               apply the schema migrations (--list, --dry-run)
    marketplace serve                 the web app under gunicorn
    marketplace run                   init, demo data once, web + consumer; Ctrl-C stops both
    marketplace demo                  load the demo shop (only into an empty database)
    marketplace user create ...       add a user (for example the first admin)
    marketplace queue ...             the job system (see `marketplace queue --help`)
    marketplace backup                back up data/ while the shop runs (see DEPLOY.md)
    marketplace copy-database URL     copy all data into another database (SQLite to PostgreSQL)
"""

import argparse
import getpass
import logging
import os
import signal
import subprocess
import sys
import time

from shop import config, logs
import models
from shop.errors import ConfigError, MigrationError, SchemaMismatch, ValidationError

log = logging.getLogger("marketplace.cli")


def setup_logging(level=None):
    """The shop's logging (once per process; tasks.start() has usually done it), at `level`."""
    logs.setup_logging(level or config.LOG_LEVEL)


def cmd_init(args):
    from shop.operations import schema

    models.init_db()
    for folder in (config.UPLOADS_DIR, config.MEDIA_DIR, config.INVOICES_DIR, config.MAIL_DIR):
        folder.mkdir(parents=True, exist_ok=True)
    # The tables come from the migrations, as on every upgrade: a new shop and an
    # upgraded one have the same schema, made the same way.
    try:
        schema.migrate()
    except (SchemaMismatch, MigrationError) as exc:
        print(f"Migration failed: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    print(f"Database ready: {config.DATABASE_URL}")
    print(f"Queue: {config.QUEUE_CONNECTION}")
    return 0


def load_jobs():
    """Declare every job and set the job runtime up (for the queue commands)."""
    import tasks  # noqa: F401


def cmd_user_create(args):
    from shop.accounts import users

    models.init_db()
    password = args.password or getpass.getpass("Password: ")
    try:
        with models.db.connection_context():
            user = users.create_user(args.name or args.email.split("@")[0], args.email, password, args.role)
    except ValidationError as exc:
        for field, message in exc.errors.items():
            print(f"{field}: {message}", file=sys.stderr)
        return 2
    print(f"Created {user.role} {user.email} (id {user.id})")
    return 0


def cmd_demo(args):
    from shop.operations import demo

    cmd_init(args)
    with models.db.connection_context():
        loaded = demo.load()
    if loaded:
        demo.print_logins()
    else:
        print("The database already has users; demo data was not loaded.")
    return 0


class _GunicornApp:
    """Runs marketplace:app in gunicorn with settings from config."""

    @staticmethod
    def run(bind, workers, threads):
        from gunicorn.app.base import BaseApplication

        from shop.operations import reachability  # in the master, before the workers fork

        class Application(BaseApplication):
            def load_config(self):
                self.cfg.set("bind", bind)
                self.cfg.set("workers", workers)
                self.cfg.set("threads", threads)
                self.cfg.set("worker_class", "gthread")
                self.cfg.set("accesslog", "-")
                self.cfg.set("graceful_timeout", 10)
                self.cfg.set("proc_name", "marketplace-web")
                self.cfg.set("when_ready", lambda server: reachability.start_checking(config.APP_URL))
                if "control_socket_disable" in self.cfg.settings:
                    # gunicorn 27's control socket lives in $HOME, shared by every
                    # gunicorn of the user; the shop does not use it.
                    self.cfg.set("control_socket_disable", True)

            def load(self):
                # By name, as gunicorn loads any WSGI app: the web app's module is the
                # layer above this command, and imports it for `python marketplace.py`.
                from gunicorn.util import import_app

                return import_app("marketplace:app")

        Application().run()


def cmd_serve(args):
    from shop.operations import schema

    from shop.operations import reachability

    schema.refuse_to_start_unless_current()
    bind = args.bind or config.WEB_BIND
    reachability.check_before_serving(config.APP_URL, bind)
    _GunicornApp.run(bind, args.workers or config.WEB_CONCURRENCY, config.WEB_THREADS)
    return 0


def consumer_command(workers=4, extra=()):
    """The consumer as systemd runs it: huey_consumer tasks.huey -w N."""
    executable = os.path.join(os.path.dirname(sys.executable), "huey_consumer")
    return [executable, "tasks.huey", "-w", str(workers), *extra]


def cmd_run(args):
    """Everything a newcomer needs: tables, demo data, the web app and a consumer."""
    from shop.operations import demo

    cmd_init(args)
    with models.db.connection_context():
        fresh = demo.load()
    bind = args.bind or config.WEB_BIND
    # The consumer sends test payments' events to APP_URL: with --bind and no APP_URL,
    # both processes derive it from the address really served.
    env = dict(os.environ, PYTHONUNBUFFERED="1", WEB_BIND=bind)
    web = subprocess.Popen([sys.executable, "-m", "shop.cli", "serve", "--bind", bind],
                           cwd=config.APP_ROOT, env=env)
    # Two malloc arenas, as the shipped worker units set: the consumer's memory levels off.
    consumer = subprocess.Popen(consumer_command(4), cwd=config.APP_ROOT,
                                env={"MALLOC_ARENA_MAX": "2", **env})
    url = f"http://{bind}" if not bind.startswith("unix:") else config.APP_URL
    print(f"\n  The marketplace is running at {url}\n")
    demo.print_logins(fresh)
    print("  Press Ctrl-C to stop.\n", flush=True)

    def stop(signum=None, frame=None):
        for process in (web, consumer):
            if process.poll() is None:
                process.send_signal(signal.SIGINT if process is consumer else signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    try:
        while web.poll() is None and consumer.poll() is None:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    stop()
    for process in (web, consumer):
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
    print("Stopped.")
    return 0


def build_parser():
    parser = argparse.ArgumentParser(prog="marketplace", description="A self-hosted digital marketplace.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    commands.add_parser("init", help="create data/ and the tables").set_defaults(func=cmd_init)

    serve = commands.add_parser("serve", help="serve the web app with gunicorn")
    serve.add_argument("--bind", help=f"address to listen on (default WEB_BIND, {config.WEB_BIND})")
    serve.add_argument("--workers", type=int, help="gunicorn worker processes (default WEB_CONCURRENCY)")
    serve.set_defaults(func=cmd_serve)

    run = commands.add_parser("run", help="init, demo data, web app and consumer together")
    run.add_argument("--bind", help="address to listen on")
    run.set_defaults(func=cmd_run)

    commands.add_parser("demo", help="load demo data into an empty database").set_defaults(func=cmd_demo)

    user = commands.add_parser("user", help="manage users")
    user_commands = user.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    create = user_commands.add_parser("create", help="create a user")
    create.add_argument("email")
    create.add_argument("--name")
    create.add_argument("--role", choices=models.ROLES, default="customer")
    create.add_argument("--password", help="default: ask (keeps it out of the shell history)")
    create.set_defaults(func=cmd_user_create)

    from job_runtime import cli

    cli.add_commands(commands, load_jobs=load_jobs)

    from shop.operations import backup
    from shop.operations import database_copy
    from shop.operations import schema
    from shop.storage import copy as storage_copy

    backup.add_command(commands)
    database_copy.add_command(commands)
    schema.add_command(commands)
    storage_copy.add_command(commands)
    return parser


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    try:
        config.start()
        parser = build_parser()
        args = parser.parse_args(argv)
        if getattr(args, "needs_jobs", True):
            import tasks  # every job declared, and the job runtime set up, for the commands that dispatch or run them

            tasks.start()
        setup_logging(logging.DEBUG if getattr(args, "verbose", False) else None)
        return args.func(args) or 0
    except ConfigError as exc:
        print(f"Configuration error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (`marketplace queue batches | head`): end quietly, as
        # other command-line tools do. What is still buffered for stdout goes nowhere,
        # or Python would report the closed pipe again as it exits.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
