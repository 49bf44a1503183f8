"""The account: register, log in, log out, and the account's notifications.

These pages serve every visitor about their own account, whatever the role:
customers and sellers alike are notified (a purchase, a moderation decision),
so the notifications page sits with the account, as shop/accounts/ holds both
the users and their notifications.
"""

from shop.accounts import notifications
from shop.accounts import users
from shop.errors import ValidationError
from shop_web.common import (
    Page,
    RouteTable,
    client_ip,
    current_user,
    flash,
    form_data,
    int_param,
    log_in,
    log_out,
    redirect_to,
    render,
    request,
    require_login,
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
        user = users.register(form["name"], form["email"], request.forms.getunicode("password") or "",
                                 form["role"])
    except ValidationError as exc:
        return validation_page("register.tpl", exc, form, title="Create an account")
    log_in(user)
    flash(f"Welcome, {user.name}! Your account is ready.", "success")
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
    redirect_to(safe_next(form["next"], _landing(user)))


@routes.post("/logout")
def logout_submit():
    log_out()
    flash("You are logged out.")
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
