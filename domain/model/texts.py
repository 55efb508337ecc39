"""The few words the service writes itself, in the customer's language (English fallback)."""

from __future__ import annotations

_TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "invoice_title": "Invoice for {period}",
        "credit_note_title": "Credit note for {period}",
        "credit_note_subject": "Credit note {number} from {business}",
        "void_prefix": "Void: ",
        "payment_title": "Payment for {number}",
        "refund_title": "Refund of {number}",
        "email_subject": "Invoice {number} from {business}",
        "email_body": (
            "Dear {customer},\n\nPlease find attached invoice {number} of {date} for {total}, "
            "due on {due}.\n\nPay online: {pay_url}\nView or download it: {invoice_url}\n\n{business}\n"
        ),
        "credit_note_body": (
            "Dear {customer},\n\nPlease find attached credit note {number} of {date}: {credit} "
            "in your favour.\n\nView or download it: {invoice_url}\n\n{business}\n"
        ),
        "einvoice_terms": "Due on {due}. Quote {number} with your payment.",
        "einvoice_pay_online": "Pay online: {pay_url}",
        "einvoice_credit_terms": (
            "Credit in your favour: refunded to you, or kept as a balance on your account."
        ),
    },
    "es": {
        "invoice_title": "Factura por {period}",
        "credit_note_title": "Nota de crédito por {period}",
        "credit_note_subject": "Nota de crédito {number} de {business}",
        "void_prefix": "Anulada: ",
        "payment_title": "Pago de {number}",
        "refund_title": "Reembolso de {number}",
        "email_subject": "Factura {number} de {business}",
        "email_body": (
            "Estimado/a {customer}:\n\nAdjuntamos la factura {number} del {date} por {total}, "
            "con vencimiento el {due}.\n\nPague en línea: {pay_url}\nVer o descargar: {invoice_url}\n\n{business}\n"
        ),
        "credit_note_body": (
            "Estimado/a {customer}:\n\nAdjuntamos la nota de crédito {number} del {date}: {credit} "
            "a su favor.\n\nVer o descargar: {invoice_url}\n\n{business}\n"
        ),
        "einvoice_terms": "Vence el {due}. Indique {number} con su pago.",
        "einvoice_pay_online": "Pague en línea: {pay_url}",
        "einvoice_credit_terms": (
            "Crédito a su favor: se le reembolsa o queda como saldo en su cuenta."
        ),
    },
}


def text(language: str, key: str, **values: object) -> str:
    table = _TEXTS.get(language, _TEXTS["en"])
    return table[key].format(**values)


def counted(number: int, noun: str, plural: str | None = None) -> str:
    """'1 invoice', '2 invoices': for the service's own English messages and the CLI."""
    return f"{number} {noun if number == 1 else plural or noun + 's'}"
