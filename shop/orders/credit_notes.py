"""Credit notes: a refund's document, cancelling its invoice in full or in part.

A credit note lists the items it credits with their net, tax and gross as the
invoice had them; an item is credited at most once, so the credit notes of an order
never add up to more than its invoice. Numbers run without gaps per year in their
own series (CN-2026-000001), allocated like invoice numbers. `key` says what a note
credits ("refund:<order>" for the whole order, "items:<order>:<ids>" for a part), so
asking twice issues one note. Everything the note shows is kept with its number as it
was then (a part of an order is credited in the admin's request and drawn by a later
job). The PDF is drawn once, from that, by the same drawer as invoices, in a child process, and stored beside them under invoices/ of the shop's storage; the
buyer finds it in the library and receives it by email.
"""

import json
import logging

from peewee import IntegrityError

from shop import config, mail
from shop.accounts import guests
from shop.errors import NotFound, ValidationError
from shop.money import format_money
from shop.orders import invoices
from shop.payments import methods
from shop.storage import INVOICES, key_for, storage
from models import CreditNote, Invoice, Order, OrderItem, User, db, utcnow

log = logging.getLogger(__name__)


def credited_item_ids(order):
    """The ids of the order's items some credit note already credits."""
    found = set()
    for note in CreditNote.select(CreditNote.lines).where(CreditNote.order == order):
        found.update(line["order_item"] for line in json.loads(note.lines))
    return found


def issue(order_id, item_ids=None, reason=None):
    """The credit note for the given items of a paid order (all of them when None), issued once.

    Returns (credit note, created). An item already credited is refused: a second
    note for it would credit more than was paid.
    """
    order = Order.get_or_none(Order.id == order_id)
    if order is None or order.paid_at is None:
        raise ValidationError("Only a paid order has an invoice to credit.")
    items = list(OrderItem.select().where(OrderItem.order == order).order_by(OrderItem.id))
    if item_ids is None:
        key, chosen = f"refund:{order.id}", items
    else:
        wanted = {int(item_id) for item_id in item_ids}
        chosen = [item for item in items if item.id in wanted]
        if not chosen or len(chosen) != len(wanted):
            raise ValidationError("Choose items of this order to credit.")
        key = f"items:{order.id}:{','.join(str(item.id) for item in chosen)}"
    existing = CreditNote.get_or_none(CreditNote.key == key)
    if existing is not None:
        return existing, False
    already = credited_item_ids(order)
    if item_ids is None:
        chosen = [item for item in chosen if item.id not in already]
        if not chosen:
            # Everything was credited by earlier partial notes: the refund has its documents.
            return CreditNote.select().where(CreditNote.order == order).order_by(CreditNote.id.desc()).first(), False
    elif already & {item.id for item in chosen}:
        raise ValidationError("An item you chose is already credited by an earlier credit note.")
    invoice = invoices.allocate(order)
    lines = [{"order_item": item.id, "title": item.title, "seller_id": item.seller_id, "net": item.net_amount,
              "tax": item.tax_amount, "gross": item.price} for item in chosen]
    for _ in range(10):
        try:
            with db.atomic():
                current = invoices.held_order(order)
                now = utcnow()
                note = CreditNote(
                    order=order, invoice=invoice, key=key, year=now.year,
                    number=invoices.next_number(CreditNote, now.year), issued_at=now,
                    reason=(reason or "")[:500] or None, lines=json.dumps(lines),
                    net=sum(line["net"] for line in lines), tax=sum(line["tax"] for line in lines),
                    gross=sum(line["gross"] for line in lines), currency=order.currency)
                # In full when this note and the earlier ones credit every item of the order.
                complete = credited_item_ids(order) | {line["order_item"] for line in lines} >= {
                    item.id for item in items}
                note.document = json.dumps(document_of(note, current, invoice, complete), sort_keys=True)
                note.save(force_insert=True)
                return note, True
        except IntegrityError:
            existing = CreditNote.get_or_none(CreditNote.key == key)
            if existing is not None:
                return existing, False
            continue  # another note took that number: take the next
    raise RuntimeError(f"could not allocate a credit note number for order {order.id}")


def in_full(note):
    """True when the order's credit notes, this one included, credit every item of its invoice."""
    items = {item_id for (item_id,) in OrderItem.select(OrderItem.id).where(OrderItem.order == note.order_id).tuples()}
    credited = set()
    for other in CreditNote.select().where((CreditNote.order == note.order_id) & (CreditNote.id <= note.id)):
        credited.update(line["order_item"] for line in json.loads(other.lines))
    return credited >= items


def pdf_key(note):
    """The storage key of the credit note's PDF, or None while it is not drawn (or was lost)."""
    if not note.pdf_path:
        return None
    key = key_for(INVOICES, note.pdf_path)
    return key if storage().exists(key) else None


def document_of(note, order, invoice, complete):
    """What the credit note shows, from its order, buyer and sellers as they are now, as JSON
    values; `complete` says whether it and the notes before it credit the whole invoice."""
    buyer = User.get_by_id(order.buyer_id)
    lines = json.loads(note.lines)
    sellers_by_id = {user.id: user for user in User.select().where(User.id.in_({line["seller_id"] for line in lines}))}
    issuer = invoices.issuer_of(invoice)
    rate = f"{order.tax_rate}%" if order.tax_rate is not None else "–"
    sellers = {}
    for line in lines:
        seller = sellers_by_id[line["seller_id"]]
        entry = sellers.setdefault(seller.id, {"name": seller.name, "email": seller.email, "items": 0, "total": 0,
                                               "legal": issuer["sellers"].get(str(seller.id))})
        entry["items"] += 1
        entry["total"] += line["gross"]
    return {
        "kind": "credit_note", "shop": config.APP_NAME, "shop_url": config.APP_URL, "issuer": issuer,
        "label": note.label, "invoice_label": invoice.label, "issued": f"{note.issued_at:%d %B %Y}",
        "order": order.reference, "paid": f"{order.paid_at:%d %B %Y %H:%M} UTC",
        "method": methods.LABELS.get(order.gateway, order.gateway),
        "payment_ref": order.payment_ref or order.gateway_ref or "",
        "buyer": invoices.buyer_block(order, buyer),
        "items": [{"title": line["title"], "seller": sellers_by_id[line["seller_id"]].name, "net": line["net"],
                   "rate": rate, "tax": line["tax"], "price": line["gross"]} for line in lines],
        "sellers": list(sellers.values()), "net": note.net, "tax": note.tax, "rate": rate, "total": note.gross,
        "currency": note.currency, "tax_note": invoices.TAX_NOTES.get(order.tax_treatment or ""),
        "in_full": complete, "reason": note.reason or "",
    }


def credit_note_data(note):
    """Everything the credit note's PDF shows, as plain picklable values: the document kept
    with its number, and the fonts of this machine."""
    if note.document:
        data = json.loads(note.document)
    else:
        # Issued before credit notes kept their document: drawn from the order as it is now.
        data = document_of(note, Order.get_by_id(note.order_id), Invoice.get_by_id(note.invoice_id), in_full(note))
    data["fonts"] = invoices.font_paths()
    return data


def generate(note_id):
    """The credit note's PDF on disk, drawn once; returns the CreditNote."""
    note = CreditNote.get_or_none(CreditNote.id == note_id)
    if note is None:
        raise NotFound("There is no such credit note.")
    if pdf_key(note):
        return note
    relative = f"{note.year}/{note.label}.pdf"
    size = invoices.draw_and_store(credit_note_data(note), relative)
    CreditNote.update(pdf_path=relative, pdf_size=size, generated_at=utcnow()).where(
        CreditNote.id == note.id).execute()
    log.info("credit note %s for order %s written (%d bytes)", note.label, note.order.reference, size)
    return CreditNote.get_by_id(note.id)


def send_credit_note_email(note_id):
    """Email the credit note's PDF to the buyer once (drawing it first if it is missing)."""
    note = generate(note_id)
    order = Order.get_by_id(note.order_id)
    buyer = User.get_by_id(order.buyer_id)
    name, address = guests.receipt_contact(order, buyer)
    where = (f"from your order's page: {guests.order_link(order)}" if buyer.is_guest
             else f"from your purchases page: {config.APP_URL}/purchases")
    text = "\n".join([
        f"Hello {name}," if name else "Hello,", "",
        f"Attached is credit note {note.label} for your order {order.reference}: "
        f"{format_money(note.gross, note.currency)} refunded against invoice {note.invoice.label}.", "",
        f"You can also download it {where}", "", config.APP_NAME])
    return mail.send(f"credit-note:{note.id}", address, f"Credit note {note.label} for order {order.reference}",
                     text, attachments=[(f"{note.label}.pdf", storage().read_bytes(pdf_key(note)),
                                                       "application/pdf")])


def of_order(order):
    return list(CreditNote.select().where(CreditNote.order == order).order_by(CreditNote.id))
