"""Invoice and credit note documents: invoice.document and credit_note.document (nullable).

Each holds, as JSON, everything the PDF shows as it stood when the number was given (the
buyer, the sellers, the items and amounts), so a PDF drawn later says what was issued.
Nullable, so consumers of the previous release keep numbering invoices while it runs; a
row without one was numbered before, and its PDF is drawn from the order as it is, as it
always was.
"""

from peewee import TextField


def upgrade(migrator, db):
    migrator.migrate(migrator.add_column("invoice", "document", TextField(null=True)),
                     migrator.add_column("credit_note", "document", TextField(null=True)))
