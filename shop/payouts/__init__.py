"""Sellers get paid: balances read from the ledger, and payouts booked as ledger debits.

balances.py splits a seller's ledger into pending (sales still inside the
PAYOUT_HOLD_DAYS refund window), available and paid out; manual.py records a
payout the owner made outside the shop; notices.py tells the seller.
"""
