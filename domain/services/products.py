"""createProduct: a name and the tax percentage its charges default to."""

from __future__ import annotations

from domain.model import validation
from domain.model.access import Viewer, require_staff
from domain.model.commands import ProductData
from domain.model.entities import Product
from domain.store.database import Database


async def create_product(db: Database, viewer: Viewer, data: ProductData) -> Product:
    require_staff(viewer)
    product = Product(
        name=validation.required_text("name", data.name, 200),
        tax_percentage=validation.percentage("tax_percentage", data.tax_percentage),
    )
    async with db.transaction() as session:
        session.add(product)
    return product
