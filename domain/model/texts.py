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
            "due on {due}.{balance}{plan}\n\nPay online: {pay_url}\nView or download it: {invoice_url}\n\n{business}\n"
        ),
        "credit_note_body": (
            "Dear {customer},\n\nPlease find attached credit note {number} of {date}: {credit} "
            "in your favour.\n\nView or download it: {invoice_url}\n\n{business}\n"
        ),
        "receipt_subject": "Receipt for invoice {number} from {business}",
        "receipt_body": (
            "Dear {customer},\n\nThank you: invoice {number} of {date} for {total} was paid "
            "on {paid}. Nothing is due.\n\nView or download it: {invoice_url}\n\n{business}\n"
        ),
        "email_balance": " {paid} of it has been received: {left} is still due.",
        "email_plan": "\n\nPayment plan:",
        "email_plan_step": "\n- {amount} by {due}{paid}",
        "email_plan_paid": " (paid)",
        "page_part_paid": "{paid} received so far, thank you.",
        "page_installment": "Next installment: {amount}, due on {due}.",
        "page_pay_all": "Pay everything due ({amount})",
        "one_day": "1 day",
        "days": "{days} days",
        "reminder_subject_soon": "Reminder: invoice {number} from {business} is due on {due}",
        "reminder_subject_late": "Reminder: invoice {number} from {business} is {days} overdue",
        "reminder_body_soon": (
            "Dear {customer},\n\nA friendly reminder: invoice {number} of {date} falls due on "
            "{due}, and {left} is due.{plan}\n\nPay online: {pay_url}\nView or download it: "
            "{invoice_url}\n\nIf you have paid already, thank you: please ignore this "
            "reminder.\n\n{business}\n"
        ),
        "reminder_body_late": (
            "Dear {customer},\n\nInvoice {number} of {date} fell due on {due} and is {days} "
            "overdue: {left} is still due.{plan}\n\nPay online: {pay_url}\nView or download "
            "it: {invoice_url}\n\nIf you have paid already, thank you: please ignore this "
            "reminder.\n\n{business}\n"
        ),
        "late_fee_title": "Late payment fee: {number}, month {month}",
        "page_download": "Download PDF",
        "page_pay": "Pay online",
        "page_pay_amount": "Pay {amount} online",
        "page_processing": "Thank you: your payment is being confirmed. This page shows it as paid once it is.",
        "page_cannot_pay": "Paying online is not possible just now; try again later.",
        "page_due": "Amount due: {amount}, due on {due}.",
        "page_transfer": "Pay by bank transfer to {name}, account {account}{bank}, quoting {number}.",
        "page_paid": "Paid on {date}. Thank you.",
        "page_refunded": "Refunded: nothing is due.",
        "page_credit": "Credit note: {amount} in your favour.",
        "page_void": "This invoice is void: nothing is due.",
        "page_expired": "This link has expired or is not valid.",
        "page_gone": "This invoice is no longer available.",
        "page_unavailable": "This invoice cannot be shown just now; try again later.",
        "page_ask": "Ask {business} for a new one:",
        "refunded_subject": "Invoice {number} from {business}: refunded",
        "refunded_body": (
            "Dear {customer},\n\nInvoice {number} of {date} for {total} has been refunded to "
            "you. Nothing is due.\n\nView or download it: {invoice_url}\n\n{business}\n"
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
            "con vencimiento el {due}.{balance}{plan}\n\nPague en línea: {pay_url}\nVer o descargar: {invoice_url}\n\n{business}\n"
        ),
        "credit_note_body": (
            "Estimado/a {customer}:\n\nAdjuntamos la nota de crédito {number} del {date}: {credit} "
            "a su favor.\n\nVer o descargar: {invoice_url}\n\n{business}\n"
        ),
        "receipt_subject": "Recibo de la factura {number} de {business}",
        "receipt_body": (
            "Estimado/a {customer}:\n\nGracias: la factura {number} del {date} por {total} se "
            "pagó el {paid}. No hay nada pendiente.\n\nVer o descargar: {invoice_url}\n\n{business}\n"
        ),
        "refunded_subject": "Factura {number} de {business}: reembolsada",
        "refunded_body": (
            "Estimado/a {customer}:\n\nLe hemos reembolsado la factura {number} del {date} por "
            "{total}. No hay nada pendiente.\n\nVer o descargar: {invoice_url}\n\n{business}\n"
        ),
        "email_balance": " Ya hemos recibido {paid}: quedan pendientes {left}.",
        "email_plan": "\n\nPlan de pagos:",
        "email_plan_step": "\n- {amount} antes del {due}{paid}",
        "email_plan_paid": " (pagado)",
        "page_part_paid": "Ya hemos recibido {paid}, gracias.",
        "page_installment": "Próximo plazo: {amount}, con vencimiento el {due}.",
        "page_pay_all": "Pagar todo lo pendiente ({amount})",
        "one_day": "1 día",
        "days": "{days} días",
        "reminder_subject_soon": "Recordatorio: la factura {number} de {business} vence el {due}",
        "reminder_subject_late": "Recordatorio: la factura {number} de {business} lleva {days} vencida",
        "reminder_body_soon": (
            "Estimado/a {customer}:\n\nLe recordamos que la factura {number} del {date} vence el "
            "{due} y que el importe pendiente es {left}.{plan}\n\nPague en línea: {pay_url}\n"
            "Ver o descargar: {invoice_url}\n\nSi ya la ha pagado, gracias: ignore este "
            "recordatorio.\n\n{business}\n"
        ),
        "reminder_body_late": (
            "Estimado/a {customer}:\n\nLa factura {number} del {date} venció el {due} y lleva "
            "{days} vencida: quedan pendientes {left}.{plan}\n\nPague en línea: {pay_url}\n"
            "Ver o descargar: {invoice_url}\n\nSi ya la ha pagado, gracias: ignore este "
            "recordatorio.\n\n{business}\n"
        ),
        "late_fee_title": "Recargo por pago tardío: {number}, mes {month}",
        "page_download": "Descargar PDF",
        "page_pay": "Pagar en línea",
        "page_pay_amount": "Pagar {amount} en línea",
        "page_processing": "Gracias: estamos confirmando su pago. Esta página lo mostrará como pagado en cuanto lo esté.",
        "page_cannot_pay": "No es posible pagar en línea ahora; inténtelo más tarde.",
        "page_due": "Importe pendiente: {amount}, con vencimiento el {due}.",
        "page_transfer": "Pague por transferencia a {name}, cuenta {account}{bank}, indicando {number}.",
        "page_paid": "Pagada el {date}. Gracias.",
        "page_refunded": "Reembolsada: no hay nada pendiente.",
        "page_credit": "Nota de crédito: {amount} a su favor.",
        "page_void": "Esta factura está anulada: no hay nada pendiente.",
        "page_expired": "Este enlace ha caducado o no es válido.",
        "page_gone": "Esta factura ya no está disponible.",
        "page_unavailable": "No podemos mostrar esta factura ahora; inténtelo más tarde.",
        "page_ask": "Pida uno nuevo a {business}:",
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
