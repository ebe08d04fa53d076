"""Four eyes: a payment file, a forced issuance, a reversal and a vendor's new IBAN each
take effect only when a second coordinator, not the one who asked, approves. The one
mechanism for all of them; each app registers its steps (kernel.four_eyes).

`request()` records what is asked and why; `approve()` by another coordinator carries it
out in the same transaction as the approval, through the step's own service; the service
itself refuses to act without an executed approval for the same action and target
(`require()`), so no other path (a view, the shell, a task) can skip the second pair of
eyes. The database refuses an approval by its requester (a CHECK constraint) as well.
"""

from __future__ import annotations

from celery import group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kernel import four_eyes
from users import roles

from .models import Approval, Transfer, TransferKind

A = Approval.Action

# What carries each action out is registered by its app at startup (kernel.four_eyes):
# the ledger does not import vendors.


class ApprovalRequired(PermissionDenied):
    """A four-eyes step was attempted without a second coordinator's approval."""


def _check_coordinator(user) -> None:
    if user is None or not roles.is_coordinator(user):
        raise PermissionDenied(_("Only a coordinator may ask for or approve this step."))


def request(action: str, target, *, by, reason: str) -> Approval:
    four_eyes.step(action)  # a step nobody registered could never be carried out
    _check_coordinator(by)
    if not (reason or "").strip():
        raise ValidationError(_("Say why: the second coordinator reads it before approving."), code="reason")
    try:
        with transaction.atomic():
            return Approval.objects.create(action=action, target=str(target), requested_by=by, reason=reason.strip())
    except IntegrityError:
        raise ValidationError(_("The same step is already waiting for a second coordinator."), code="pending")


def pending(action: str, target) -> Approval | None:
    return Approval.objects.filter(action=action, target=str(target), status=Approval.Status.PENDING).first()


@transaction.atomic
def approve(approval: Approval, *, by, at=None) -> Approval:
    """The second coordinator: the step is carried out now, or not at all.

    `at` dates the movements of a step that happened earlier (the demo's history only)."""
    approval = Approval.objects.select_for_update().get(pk=approval.pk)
    if approval.status != Approval.Status.PENDING:
        raise ValidationError(_("This request is no longer waiting."), code="state")
    _check_coordinator(by)
    if by.pk == approval.requested_by_id:
        raise ApprovalRequired(_("A second coordinator must approve, not the one who asked."))
    approval.status, approval.decided_by, approval.decided_at = Approval.Status.EXECUTED, by, timezone.now()
    approval.save(update_fields=["status", "decided_by", "decided_at"])
    step = four_eyes.step(approval.action)
    approval.outcome = step.carry_out(approval, at=at) if at is not None else step.carry_out(approval)
    approval.save(update_fields=["outcome"])
    return approval


@transaction.atomic
def refuse(approval: Approval, *, by, reason: str = "") -> Approval:
    approval = Approval.objects.select_for_update().get(pk=approval.pk)
    _check_coordinator(by)
    if approval.status == Approval.Status.PENDING:
        approval.status, approval.decided_by, approval.decided_at = Approval.Status.REFUSED, by, timezone.now()
        approval.outcome = reason
        approval.save(update_fields=["status", "decided_by", "decided_at", "outcome"])
        four_eyes.step(approval.action).refused(approval)
    return approval


def require(approval: Approval | None, action: str, target) -> Approval:
    """Raise unless `approval` is an approved (being carried out) one of `action` on `target`."""
    ok = (
        approval is not None
        and approval.pk is not None
        and approval.action == action
        and approval.target == str(target)
        and approval.status == Approval.Status.EXECUTED
        and approval.decided_by_id is not None
        and approval.decided_by_id != approval.requested_by_id
        # Re-read: an object built in memory with the right fields is not an approval.
        and Approval.objects.filter(
            pk=approval.pk, status=Approval.Status.EXECUTED, action=action, target=str(target)
        ).exclude(decided_by=None).exists()
    )
    if not ok:
        raise ApprovalRequired(_("This step needs a second coordinator's approval first."))
    return approval


# --- The allocations steps ------------------------------------------------------------


# Transfers that belong to an object of the domain: a bare reversal would leave the object
# saying the opposite of its money (a purchase "captured, refunded 0" that the shop then
# refunds: the member credited twice). Each names the service that corrects it.
OWNED_BY_AN_OBJECT = {
    TransferKind.PURCHASE: gettext_lazy("It belongs to a purchase: correct it by a refund on the purchase."),
    TransferKind.REFUND: gettext_lazy("It belongs to a refund of a purchase: a refund is final; record a new purchase "
                               "if the member must pay again."),
    TransferKind.SETTLEMENT: gettext_lazy("It belongs to a vendor's settlement: a difference is carried to the next "
                                   "settlement run."),
    TransferKind.REIMBURSEMENT: gettext_lazy("It belongs to a vendor's settlement: a difference is carried to the next "
                                      "settlement run."),
    TransferKind.CONTRIBUTION: gettext_lazy("It belongs to a contribution paid: correct the payment itself (its "
                                     "correction, approved by a second coordinator)."),
}


def check_reversible(transfer_id: int) -> None:
    """Raise ValidationError (code `owned`, naming the right correction) unless the generic
    reversal may undo this transfer."""
    kind = Transfer.objects.filter(pk=transfer_id).values_list("kind", flat=True).first()
    if kind is None:
        raise ValidationError(_("No such transfer."), code="missing")
    if kind in OWNED_BY_AN_OBJECT:
        raise ValidationError(
            _("This transfer cannot be reversed on its own. %(how)s") % {"how": OWNED_BY_AN_OBJECT[kind]}, code="owned"
        )


def request_reversal(transfer_id: int, *, by, reason: str) -> Approval:
    _check_coordinator(by)
    check_reversible(transfer_id)
    return request(A.REVERSAL, transfer_id, by=by, reason=reason)


def execute_reversal(approval: Approval) -> str:
    from . import ledger

    require(approval, A.REVERSAL, approval.target)
    check_reversible(int(approval.target))
    posted = ledger.reverse(int(approval.target), memo=f"reversal #{approval.target}: {approval.reason}"[:255])
    # The approvals page shows this to coordinators: words, in their language.
    return _("reversed by transfer n° %(id)s") % {"id": posted.transfer.pk}


def request_forced_issuance(period: str, *, by, reason: str) -> Approval:
    from . import issuance

    issuance.check_issuable(period)
    return request(A.FORCED_ISSUANCE, period, by=by, reason=reason)


def execute_forced_issuance(approval: Approval) -> str:
    """Plans the forced run now (recording who asked, who approved and why); its chunks are
    issued after the commit, by the workers, as any month's are."""
    from . import issuance, tasks

    run, _planned = issuance.start_run(
        approval.target, force=True, forced_by=approval.requested_by, reason=approval.reason, approval=approval
    )
    chunks = issuance.pending_chunks(run)
    if chunks:
        transaction.on_commit(lambda: group(tasks.issue_chunk_task.s(run.pk, index) for index in chunks).apply_async())
    return _("issuance of %(period)s: %(status)s") % {"period": run.period, "status": run.get_status_display()}
