"""createProduct: a name and the tax percentage its charges default to (with, for untaxed
products, why they are exempt)."""

from __future__ import annotations

from domain.model import validation
from domain.model.access import Viewer, require_staff
from domain.model.commands import ProductData
from domain.model.entities import Product
from domain.store.database import Database


async def create_product(db: Database, viewer: Viewer, data: ProductData) -> Product:
    require_staff(viewer)
    percent = validation.percentage("tax_percentage", data.tax_percentage)
    product = Product(
        name=validation.required_text("name", data.name, 200),
        tax_percentage=percent,
        tax_exemption_reason=validation.exemption_reason(
            "tax_exemption_reason", data.tax_exemption_reason, percent
        ),
    )
    async with db.transaction() as session:
        session.add(product)
    return product
