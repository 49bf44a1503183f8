"""The notifications page: a user's notifications, newest first; opening it marks them read."""

from shop.accounts import notifications
from shop_web.common import Page, RouteTable, current_user, int_param, render, request, require_login

routes = RouteTable()

PER_PAGE = 20


@routes.get("/notifications")
@require_login
def notifications_index():
    user = current_user()
    page = Page(notifications.for_user(user), int_param(request.query.get("page"), 1, 1), PER_PAGE)
    # The page shows which ones were new; then they are read, and the header count drops to zero.
    entries = [(item, notifications.describe(item), item.read_at is None) for item in page.items]
    notifications.mark_all_read(user)
    return render("notifications.tpl", title="Notifications", page=page, entries=entries, base_query="")
