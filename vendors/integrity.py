"""What check_ledger asks of the vendors' objects: each purchase and each settlement
agrees with its own transfers (registered in VendorsConfig.ready())."""

from __future__ import annotations

from allocations.integrity import ObjectMismatch
from allocations.models import Transfer

from .models import PaymentRequest, Purchase, Refund, Settlement

_T, _P, _R, _S = Transfer._meta.db_table, Purchase._meta.db_table, Refund._meta.db_table, Settlement._meta.db_table


def purchases_agree(cursor) -> list[ObjectMismatch]:
    """Captured equals its transfer, refunded equals its refunds' transfers, and no bare
    reversal touched the purchase's transfer (that is how a purchase got paid twice)."""
    cursor.execute(
        f"""
        SELECT p.id, p.amount, p.refunded, t.amount, COALESCE(r.recorded, 0), COALESCE(r.moved, 0), COALESCE(v.total, 0)
        FROM {_P} p
        JOIN {_T} t ON t.id = p.transfer_id
        LEFT JOIN (SELECT rf.purchase_id, SUM(rf.amount) AS recorded, SUM(rt.amount) AS moved
                   FROM {_R} rf JOIN {_T} rt ON rt.id = rf.transfer_id GROUP BY rf.purchase_id) r ON r.purchase_id = p.id
        LEFT JOIN (SELECT reverses_id, SUM(amount) AS total FROM {_T}
                   WHERE reverses_id IS NOT NULL GROUP BY reverses_id) v ON v.reverses_id = p.transfer_id
        WHERE t.amount <> p.amount OR COALESCE(r.recorded, 0) <> p.refunded OR COALESCE(r.moved, 0) <> p.refunded
              OR v.total IS NOT NULL
        ORDER BY p.id LIMIT 1000
        """
    )
    return [
        ObjectMismatch(
            f"purchase #{id_}",
            f"says captured {amount}, refunded {refunded}; its transfers say captured {moved}, "
            f"refunds recorded {recorded}, refunded {refunds_moved}, reversed {reversed_}",
        )
        for id_, amount, refunded, moved, recorded, refunds_moved, reversed_ in cursor.fetchall()
    ]


def settlements_agree(cursor) -> list[ObjectMismatch]:
    """A paid settlement has both transfers, each of its amount, neither reversed; a
    returned one has none, or both reversed (returned after the bank paid it); any other
    (waiting, committed to the bank, carried) has none."""
    cursor.execute(
        f"""
        SELECT s.number, s.status, s.amount, u.amount, e.amount, ur.amount, er.amount
        FROM {_S} s LEFT JOIN {_T} u ON u.id = s.units_transfer_id LEFT JOIN {_T} e ON e.id = s.euros_transfer_id
        LEFT JOIN {_T} ur ON ur.reverses_id = s.units_transfer_id
        LEFT JOIN {_T} er ON er.reverses_id = s.euros_transfer_id
        WHERE CASE
                WHEN s.status = %s THEN u.id IS NULL OR e.id IS NULL OR ur.id IS NOT NULL OR er.id IS NOT NULL
                WHEN s.status = %s THEN (u.id IS NULL) <> (e.id IS NULL)
                                        OR (u.id IS NOT NULL AND (ur.id IS NULL OR er.id IS NULL))
                ELSE u.id IS NOT NULL OR e.id IS NOT NULL
              END
              OR u.amount <> s.amount OR e.amount <> s.amount OR ur.amount <> s.amount OR er.amount <> s.amount
        ORDER BY s.id LIMIT 1000
        """,
        [Settlement.Status.PAID, Settlement.Status.RETURNED],
    )
    return [
        ObjectMismatch(f"settlement {number}",
                       f"says {status}, {amount}; its transfers say units retired {units}, euros paid {euros}, "
                       f"reversed {units_back} and {euros_back}")
        for number, status, amount, units, euros, units_back, euros_back in cursor.fetchall()
    ]


def payment_requests_agree(cursor) -> list[ObjectMismatch]:
    """A paid request's purchase is at its shop, for what it asked (issue 22)."""
    cursor.execute(
        f"""
        SELECT r.code, r.vendor_id, r.amount, p.vendor_id, p.requested
        FROM {PaymentRequest._meta.db_table} r JOIN {_P} p ON p.id = r.purchase_id
        WHERE p.vendor_id <> r.vendor_id OR p.requested <> r.amount
        ORDER BY r.id LIMIT 1000
        """
    )
    return [
        ObjectMismatch(f"payment request {code}",
                       f"asks {amount} at vendor #{vendor}; its purchase was {requested} at vendor #{paid_at}")
        for code, vendor, amount, paid_at, requested in cursor.fetchall()
    ]
