"""The few words the service writes itself, in the customer's language (English fallback)."""

from __future__ import annotations

_TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "invoice_title": "Invoice for {period}",
        "void_prefix": "Void: ",
        "payment_title": "Payment for {number}",
    },
    "es": {
        "invoice_title": "Factura por {period}",
        "void_prefix": "Anulada: ",
        "payment_title": "Pago de {number}",
    },
}


def text(language: str, key: str, **values: object) -> str:
    table = _TEXTS.get(language, _TEXTS["en"])
    return table[key].format(**values)
