"""Demo data for `make run`: an admin, two sellers, a customer, and their products.

Loaded only into a database without users, so it never touches a real shop.
"""

import accounts
from models import User, db

DEMO_PASSWORD = "demo-pass-123"
DEMO_ACCOUNTS = [
    ("admin", "Ada Admin", "admin@example.com"),
    ("seller", "Sam Seller", "sam@example.com"),
    ("seller", "Priya Patel", "priya@example.com"),
    ("customer", "Casey Customer", "casey@example.com"),
]


def load():
    """Load the demo shop into an empty database; returns False if it has users."""
    if User.select().exists():
        return False
    with db.atomic():
        for role, name, email in DEMO_ACCOUNTS:
            accounts.create_user(name, email, DEMO_PASSWORD, role)
    return True


def print_logins(fresh=True):
    if not User.select().where(User.email == DEMO_ACCOUNTS[0][2]).exists():
        return
    print("  Demo logins (password for all: %s):" % DEMO_PASSWORD)
    for role, name, email in DEMO_ACCOUNTS:
        print(f"    {role:<9} {email}")
    print()
