"""Guest checkout (order.guest_email): the address a guest's order belongs to.

A nullable column with its index, so consumers of the previous release keep
inserting orders while it runs. Guests themselves are user rows of a new role,
which needs no change to the user table.
"""

from peewee import CharField


def upgrade(migrator, db):
    # add_column creates the index too, as the field asks for one.
    migrator.migrate(migrator.add_column("order", "guest_email", CharField(null=True, index=True)))
