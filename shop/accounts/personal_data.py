"""A customer's personal data: everything the shop holds about them, as JSON, and the deletion
of their account, which anonymises it while keeping what the books need.

Kept, because the books and the sellers' money rest on them: the account's row (orders,
transactions and invoices point at it), its orders and their items, transactions,
invoices and credit notes (numbers and amounts; their kept documents take the anonymised
name, and their PDFs are drawn again with it), refunds and ledger entries. Replaced: the name and the email address, on the account and
on the record of the emails sent to it. Removed: the password, sessions, reset links,
the cart, notifications, login counters and the named instances of license keys.
Download links are revoked and license keys disabled.
"""

import datetime
import json
from collections import namedtuple

from shop.accounts import settings
from shop.accounts import users
from shop.errors import Forbidden
from models import (
    CartItem,
    CreditNote,
    DownloadLink,
    DownloadRenewal,
    Invoice,
    LicenseActivation,
    LicenseKey,
    LoginAttempt,
    Notification,
    Order,
    OrderItem,
    OutboundMail,
    PasswordReset,
    Product,
    Refund,
    Session,
    User,
    db,
    utcnow,
)

DELETED_NAME = "Deleted customer"
DELETED_DOMAIN = "deleted.invalid"
# Not an argon2 hash: no password verifies against it.
NO_PASSWORD = "!deleted"


def _when(value):
    return value.replace(tzinfo=datetime.timezone.utc).isoformat() if value else None


def export(user):
    """Everything the shop holds about `user`, as JSON-ready values."""
    orders = []
    for order in Order.select().where(Order.buyer == user).order_by(Order.id):
        invoice = Invoice.get_or_none(Invoice.order == order)
        refund = Refund.get_or_none(Refund.order == order)
        orders.append({
            "reference": order.reference, "status": order.status, "gateway": order.gateway,
            "total": order.total, "currency": order.currency, "created_at": _when(order.created_at),
            "paid_at": _when(order.paid_at), "refunded_at": _when(order.refunded_at),
            "discount": order.discount,
            "items": [{"title": item.title, "price": item.price, "list_price": item.list_price,
                       "discount": item.discount}
                      for item in OrderItem.select().where(OrderItem.order == order).order_by(OrderItem.id)],
            "invoice": {"label": invoice.label, "issued_at": _when(invoice.issued_at)} if invoice else None,
            "refund": {"status": refund.status} if refund else None,
        })
    return {
        "account": {"name": user.name, "email": user.email, "role": user.role,
                    "created_at": _when(user.created_at), "email_verified_at": _when(user.email_verified_at)},
        "sessions": [{"created_at": _when(s.created_at), "expires_at": _when(s.expires_at)}
                     for s in Session.select().where(Session.user == user).order_by(Session.id)],
        "orders": orders,
        "download_links": [
            {"product": link.product.title, "expires_at": _when(link.expires_at),
             "downloads": link.download_count, "max_downloads": link.max_downloads,
             "last_downloaded_at": _when(link.last_downloaded_at), "revoked_at": _when(link.revoked_at),
             "renewed_at": [_when(renewal.created_at) for renewal in
                            DownloadRenewal.select().where(DownloadRenewal.link == link).order_by(DownloadRenewal.id)]}
            for link in DownloadLink.select(DownloadLink, Product).join(Product)
            .where(DownloadLink.buyer == user).order_by(DownloadLink.id)],
        "license_keys": [
            {"product": key.product.title, "key": key.key, "activation_limit": key.activation_limit,
             "expires_at": _when(key.expires_at), "disabled_at": _when(key.disabled_at),
             "instances": [{"name": instance.name, "created_at": _when(instance.created_at),
                            "last_validated_at": _when(instance.last_validated_at)}
                           for instance in LicenseActivation.select().where(LicenseActivation.license == key)
                           .order_by(LicenseActivation.id)]}
            for key in LicenseKey.select(LicenseKey, Product).join(Product)
            .where(LicenseKey.buyer == user).order_by(LicenseKey.id)],
        "cart": [{"product": item.product.title, "added_at": _when(item.added_at),
                  "chosen_price": item.chosen_price}
                 for item in CartItem.select(CartItem, Product).join(Product).where(CartItem.user == user)],
        "notifications": [{"type": n.type, "data": n.data, "created_at": _when(n.created_at),
                           "read_at": _when(n.read_at)}
                          for n in Notification.select().where(Notification.user == user).order_by(Notification.id)],
        "emails": [{"subject": m.subject, "sent_at": _when(m.sent_at)}
                   for m in OutboundMail.select().where(OutboundMail.to == user.email).order_by(OutboundMail.id)],
        "products": [{"title": p.title, "status": p.status, "price": p.price}
                     for p in Product.select().where(Product.seller == user).order_by(Product.id)],
    }


def check_deletable(user):
    """Only customers delete their own accounts: a seller's products and balance, and an
    admin's decisions, need the shop's hand."""
    if user.role != "customer":
        raise Forbidden("A seller or admin account cannot be deleted here: ask the shop's team to close it, "
                        "so products and balances are settled first.")


# What an account's deletion leaves to draw again: the orders whose invoice PDFs and the
# credit notes whose PDFs showed the old name.
Redraw = namedtuple("Redraw", "orders credit_notes")


def delete_account(user, password):
    """Anonymise the account (see the module's docstring). Needs the current password.
    Returns the Redraw: the invoices and credit notes whose PDFs must be drawn again."""
    check_deletable(user)
    settings.check_current_password(user, password)
    old_email = user.email
    anonymous_email = f"deleted-{user.id}@{DELETED_DOMAIN}"
    with db.atomic():
        User.update(name=DELETED_NAME, email=anonymous_email, password_hash=NO_PASSWORD,
                    email_verified_at=None).where(User.id == user.id).execute()
        OutboundMail.update(to=anonymous_email).where(OutboundMail.to == old_email).execute()
        for model, field in ((Session, Session.user), (PasswordReset, PasswordReset.user),
                             (CartItem, CartItem.user), (Notification, Notification.user)):
            model.delete().where(field == user.id).execute()
        LoginAttempt.delete().where(LoginAttempt.key == users.throttle_keys(old_email, "")["account"]).execute()
        # An order bought as a guest and joined to the account kept the address it was bought with.
        Order.update(guest_email=None).where(Order.buyer == user.id).execute()
        # A consumer's address goes; the country and its evidence stay (tax rules ask the
        # seller to keep them), as do a business buyer's details, which the reverse charge
        # of its invoices rests on.
        Order.update(buyer_address=None, buyer_business_name=None).where(
            (Order.buyer == user.id) & Order.buyer_tax_number.is_null()).execute()
        DownloadLink.update(revoked_at=utcnow()).where(
            (DownloadLink.buyer == user.id) & DownloadLink.revoked_at.is_null()).execute()
        # An instance's name is the customer's own words ("Casey's laptop"); the keys stop working.
        keys = LicenseKey.select(LicenseKey.id).where(LicenseKey.buyer == user.id)
        LicenseActivation.delete().where(LicenseActivation.license.in_(keys)).execute()
        LicenseKey.update(activation_count=0).where(LicenseKey.buyer == user.id).execute()
        LicenseKey.update(disabled_at=utcnow(), disabled_reason="account_deleted").where(
            (LicenseKey.buyer == user.id) & LicenseKey.disabled_at.is_null()).execute()
        forget_buyer(user, anonymous_email)
        redraw = [order_id for (order_id,) in Invoice.select(Invoice.order).join(Order)
                  .where(Order.buyer == user.id).tuples()]
        # The PDFs show the old name: drawn again (same numbers, same amounts) by generate_invoice.
        Invoice.update(pdf_path=None, generated_at=None).where(Invoice.order.in_(redraw)).execute()
        notes = [note_id for (note_id,) in CreditNote.select(CreditNote.id).join(Order)
                 .where(Order.buyer == user.id).tuples()]
        CreditNote.update(pdf_path=None, generated_at=None).where(CreditNote.id.in_(notes)).execute()
    return Redraw(redraw, notes)


def forget_buyer(user, anonymous_email):
    """The buyer of the user's invoices and credit notes, in the documents kept with their
    numbers, as the orders now name them: the anonymised name and address; a business
    buyer's details stay, as on the order."""
    for model in (Invoice, CreditNote):
        kept = (model.select(model.id, model.document, Order.buyer_tax_number).join(Order)
                .where((Order.buyer == user.id) & model.document.is_null(False)).tuples())
        for row_id, kept_document, tax_number in kept:
            document = json.loads(kept_document)
            document["buyer"].update(name=DELETED_NAME, email=anonymous_email)
            if not tax_number:
                document["buyer"].update(address="", business_name="")
            model.update(document=json.dumps(document, sort_keys=True)).where(model.id == row_id).execute()


def is_deleted(user):
    return user.email.endswith(f"@{DELETED_DOMAIN}") and user.password_hash == NO_PASSWORD

