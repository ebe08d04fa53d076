"""The coordinators' pages, all of them under /coordination/."""

from django.urls import path

from . import (
    bank_views,
    books_views,
    corrections_views,
    direct_debit_views,
    fund_views,
    operations_views,
    settlement_views,
    views,
)
from .audit import views as audit_views

app_name = "coordination"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("export/<slug:name>.csv", views.export_table, name="export"),
    path("approvals/", views.approval_list, name="approvals"),
    path("approvals/<int:pk>/", views.approval_decide, name="approval_decide"),
    path("approvals/reversal/", views.request_reversal, name="request_reversal"),
    path("refunds/", corrections_views.refund_search, name="refunds"),
    path("refunds/<int:pk>/", corrections_views.refund_purchase, name="refund"),
    path("desk/held-cash/", corrections_views.held_cash, name="held_cash"),
    path("desk/held-cash/<int:pk>/", corrections_views.held_cash_decide, name="held_cash_decide"),
    path("desk/differences/", corrections_views.desk_differences, name="desk_differences"),
    path("desk/differences/<int:pk>/", corrections_views.explain_difference, name="explain_difference"),
    path("grants/", views.grant_list, name="grants"),
    path("grants/<int:pk>/", views.grant_detail, name="grant"),
    path("grants/<int:pk>/report.csv", views.grant_report_csv, name="grant_report_csv"),
    path("grants/<int:pk>/print/", views.grant_report_print, name="grant_report_print"),
    path("books/", books_views.books_page, name="books"),
    path("books/<int:year>/fec.txt", books_views.books_fec, name="books_fec"),
    path("books/<int:year>/entries.csv", books_views.books_csv, name="books_csv"),
    path("books/<int:year>/close/", books_views.close_year, name="books_close"),
    path("research/", books_views.research_page, name="research"),
    path("research/export.csv", books_views.research_export, name="research_export"),
    path("settlements/", settlement_views.runs, name="settlement_runs"),
    path("settlements/<int:pk>/", settlement_views.run_detail, name="settlement_run"),
    path("settlements/<int:pk>/pay/", settlement_views.request_payment, name="settlement_pay"),
    path("settlements/<int:pk>/sepa/", settlement_views.payment_file, name="settlement_file"),
    path("settlements/<int:pk>/confirm/", settlement_views.request_confirmation, name="settlement_confirm"),
    path("settlements/<int:pk>/<str:number>/return/", settlement_views.request_return, name="settlement_return"),
    path("direct-debits/", direct_debit_views.collections, name="direct_debits"),
    path("direct-debits/<int:pk>/", direct_debit_views.collection_detail, name="direct_debit"),
    path("direct-debits/<int:pk>/pain008.xml", direct_debit_views.collection_file, name="direct_debit_file"),
    path("direct-debits/<int:pk>/confirm/", direct_debit_views.confirm, name="direct_debit_confirm"),
    path("direct-debits/<int:pk>/again/", direct_debit_views.present_again, name="direct_debit_again"),
    path("direct-debits/returns/", direct_debit_views.reject, name="direct_debit_reject"),
    path("audit/", audit_views.audit, name="audit"),
    path("fund/", fund_views.fund_settings, name="fund_settings"),
    path("bank/", bank_views.statements, name="bank_statements"),
    path("bank/<int:pk>/", bank_views.statement, name="bank_statement"),
    path("bank/lines/<int:pk>/handled/", bank_views.handle_line, name="bank_line_handled"),
    path("bank/lines/<int:pk>/match/", bank_views.match_line, name="bank_line_match"),
    path("operations/", operations_views.operations_page, name="operations"),
    path("alarms/<int:pk>/acknowledge/", operations_views.acknowledge, name="alarm_acknowledge"),
]
