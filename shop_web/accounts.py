"""The account: register, log in, log out, verify the address, reset a forgotten password, the
account's settings and its notifications.

These pages serve every visitor about their own account, whatever the role:
customers and sellers alike are notified (a purchase, a moderation decision),
so the notifications page sits with the account, as shop/accounts/ holds both
the users and their notifications.
"""

import tasks
from shop.accounts import guests
from shop.accounts import notifications
from shop.accounts import password_reset
from shop.accounts import personal_data
from shop.accounts import settings
from shop.accounts import users
from shop.accounts import verification
from shop.errors import ValidationError
from models import db
from shop_web.common import (
    Page,
    RouteTable,
    client_ip,
    current_user,
    flash,
    form_data,
    int_param,
    json_response,
    log_in,
    log_out,
    redirect_to,
    render,
    request,
    require_login,
    response,
    safe_next,
    validation_page,
)

routes = RouteTable()

NOTIFICATIONS_PER_PAGE = 20


# ---------------------------------------------------------------------------
# Register, log in, log out
# ---------------------------------------------------------------------------


def _landing(user):
    return {"admin": "/admin/products", "seller": "/seller/products"}.get(user.role, "/")


@routes.get("/register")
def register_form():
    if current_user():
        redirect_to("/")
    role = request.query.get("role") if request.query.get("role") in users.SELF_SERVICE_ROLES else "customer"
    return render("register.tpl", title="Create an account", form={"role": role})


@routes.post("/register")
def register_submit():
    form = form_data("name", "email", "role")
    try:
        # The account and its verification email's job, together or not at all.
        with db.atomic():
            user = users.register(form["name"], form["email"], request.forms.getunicode("password") or "",
                                  form["role"])
            tasks.send_email_verification.dispatch(user.id, *verification.new_request())
    except ValidationError as exc:
        return validation_page("register.tpl", exc, form, title="Create an account")
    log_in(user)
    flash(f"Welcome, {user.name}! Your account is ready. We have emailed you a link to confirm "
          "your address.", "success")
    redirect_to(_landing(user))


@routes.get("/login")
def login_form():
    if current_user():
        redirect_to(safe_next(request.query.get("next")))
    return render("login.tpl", title="Log in", form={"next": request.query.get("next", "")})


@routes.post("/login")
def login_submit():
    form = form_data("email", "next")
    try:
        user = users.authenticate(form["email"], request.forms.getunicode("password") or "", client_ip())
    except ValidationError as exc:
        return validation_page("login.tpl", exc, form, status=401, title="Log in")
    log_in(user)
    # An account whose address is verified finds what was bought as a guest with it.
    guests.claim_orders(user)
    redirect_to(safe_next(form["next"], _landing(user)))


@routes.post("/logout")
def logout_submit():
    log_out()
    flash("You are logged out.")
    redirect_to("/")


# ---------------------------------------------------------------------------
# Verifying the address: the link from the email, and sending it again
# ---------------------------------------------------------------------------


@routes.get("/email/verify/<token>")
def email_verify(token):
    try:
        user = verification.verify(token)
    except verification.LinkUnusable as exc:
        return render("error.tpl", status=400, title="Link not valid", message=str(exc), status_code=400)
    flash(f"Thank you: {user.email} is verified.", "success")
    redirect_to(_landing(current_user()) if current_user() else "/login")


@routes.post("/email/verify/resend")
@require_login
def email_verify_resend():
    user = current_user()
    if user.email_verified:
        flash("Your email address is already verified.")
    else:
        verification.check_resend_allowed(user)
        tasks.send_email_verification.dispatch(user.id, *verification.new_request())
        flash(f"We have sent the link again to {user.email}.", "success")
    redirect_to(safe_next(request.forms.getunicode("next"), _landing(user)))


# ---------------------------------------------------------------------------
# A forgotten password: ask for a link by email, then choose a new password with it
# ---------------------------------------------------------------------------


@routes.get("/password/forgot")
def password_forgot_form():
    return render("password_forgot.tpl", title="Forgot your password?", form={})


@routes.post("/password/forgot")
def password_forgot_submit():
    form = form_data("email")
    try:
        password_reset.request_reset(form["email"], client_ip(), tasks.send_password_reset.dispatch)
    except ValidationError as exc:
        return validation_page("password_forgot.tpl", exc, form, title="Forgot your password?")
    # The same page whether or not the address has an account.
    return render("password_forgot.tpl", title="Check your email", form={}, sent=password_reset.REQUESTED)


def _reset_page(token, status=200, **context):
    # The token is in the address: no page it links to may be told it.
    response.set_header("Referrer-Policy", "no-referrer")
    return render("password_reset.tpl", status=status, title="Choose a new password", token=token, **context)


@routes.get("/password/reset/<token>")
def password_reset_form(token):
    if password_reset.usable(token) is None:
        return _reset_page(token, status=400, form={}, errors={}, unusable=password_reset.LINK_UNUSABLE)
    return _reset_page(token, form={}, errors={})


@routes.post("/password/reset/<token>")
def password_reset_submit(token):
    try:
        user = password_reset.reset_password(token, request.forms.getunicode("password") or "",
                                             for_user=current_user())
    except password_reset.LinkUnusable as exc:
        return _reset_page(token, status=400, form={}, errors={}, unusable=str(exc))
    except ValidationError as exc:
        return _reset_page(token, status=400, form={}, errors=exc.errors or {"_": str(exc)},
                           error_message=str(exc))
    # Every session of the account has ended, this visitor's too: a fresh one.
    log_in(user)
    flash("Your password is changed, and your account is logged out everywhere else.", "success")
    redirect_to(_landing(user))


# ---------------------------------------------------------------------------
# Settings: name, address, password, sessions
# ---------------------------------------------------------------------------

SETTINGS_TITLE = "Account settings"


def _settings_page(status=200, **context):
    user = current_user()
    token = request.environ.get("app.session_token")
    sessions = [(session, settings.is_this_session(session, token)) for session in settings.sessions_of(user)]
    return render("account_settings.tpl", status=status, title=SETTINGS_TITLE, sessions=sessions, **context)


def _settings_error(failed, exc, form=None):
    """The settings page again, with the errors of the form `failed` (name, email or password)."""
    return _settings_page(status=400, errors=exc.errors or {"_": str(exc)}, form=form or {},
                          error_message=str(exc), failed=failed)


@routes.get("/account")
@require_login
def account_settings():
    return _settings_page()


@routes.post("/account/name")
@require_login
def account_name_submit():
    form = form_data("name")
    try:
        settings.change_name(current_user(), form["name"])
    except ValidationError as exc:
        return _settings_error("name", exc, form)
    flash("Your name is saved.", "success")
    redirect_to("/account")


@routes.post("/account/legal")
@require_login
def account_legal_submit():
    form = form_data("legal_name", "legal_address", "tax_number")
    try:
        settings.change_legal_details(current_user(), form["legal_name"], form["legal_address"], form["tax_number"])
    except ValidationError as exc:
        return _settings_error("legal", exc, form)
    flash("Your legal details are saved.", "success")
    redirect_to("/account")


@routes.post("/account/password")
@require_login
def account_password_submit():
    try:
        settings.change_password(current_user(), request.forms.getunicode("current_password"),
                                 request.forms.getunicode("password") or "",
                                 request.environ.get("app.session_token"))
    except ValidationError as exc:
        return _settings_error("password", exc)
    flash("Your password is changed, and your account is logged out everywhere else.", "success")
    redirect_to("/account")


@routes.post("/account/email")
@require_login
def account_email_submit():
    form = form_data("email")
    user = current_user()
    try:
        new_email, expires = settings.request_email_change(
            user, form["email"], request.forms.getunicode("current_password"))
    except ValidationError as exc:
        return _settings_error("email", exc, form)
    tasks.send_email_change_link.dispatch(user.id, new_email, expires, verification.new_request()[1])
    flash(f"We have emailed a link to {new_email}. Your address changes once you open it; "
          f"until then it stays {user.email}.", "success")
    redirect_to("/account")


@routes.get("/account/email/confirm/<token>")
def account_email_confirm(token):
    try:
        with db.atomic():
            user, old_email = settings.confirm_email_change(token)
            tasks.send_email_change_notice.dispatch(user.id, old_email, user.email, settings.notice_key(token))
    except ValidationError as exc:
        return render("error.tpl", status=400, title="Link not valid", message=str(exc), status_code=400)
    flash(f"Your email address is now {user.email}.", "success")
    redirect_to("/account" if current_user() else "/login")


@routes.post("/account/sessions/end-others")
@require_login
def account_sessions_end_others():
    ended = users.end_other_sessions(current_user(), request.environ.get("app.session_token"))
    flash(f"Logged out everywhere else ({ended} {'session' if ended == 1 else 'sessions'}).", "success")
    redirect_to("/account")


# ---------------------------------------------------------------------------
# Personal data: the download of everything held, and deleting the account
# ---------------------------------------------------------------------------


@routes.get("/account/data")
@require_login
def account_data():
    data = json_response(personal_data.export(current_user()))
    response.set_header("Content-Disposition", 'attachment; filename="my-account-data.json"')
    return data


@routes.post("/account/delete")
@require_login
def account_delete_submit():
    user = current_user()
    try:
        with db.atomic():
            redraw = personal_data.delete_account(user, request.forms.getunicode("current_password"))
            for order_id in redraw.orders:
                tasks.generate_invoice.dispatch(order_id)
            for note_id in redraw.credit_notes:
                tasks.generate_credit_note.dispatch(note_id)
    except ValidationError as exc:
        return _settings_error("delete", exc)
    log_out()
    flash("Your account is deleted. Your orders stay in the shop's books without your name or address.",
          "success")
    redirect_to("/")


# ---------------------------------------------------------------------------
# Notifications: newest first; opening the page marks them read
# ---------------------------------------------------------------------------


@routes.get("/notifications")
@require_login
def notifications_index():
    user = current_user()
    page = Page(notifications.for_user(user), int_param(request.query.get("page"), 1, 1),
                NOTIFICATIONS_PER_PAGE)
    # The page shows which ones were new; then they are read, and the header count drops to zero.
    entries = [(item, notifications.describe(item), item.read_at is None) for item in page.items]
    notifications.mark_all_read(user)
    return render("notifications.tpl", title="Notifications", page=page, entries=entries, base_query="")
