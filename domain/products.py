"""The product catalogue: a name and the tax percentage its charges default to."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select

from domain import validation
from domain.access import Viewer, require_staff
from domain.db import Database
from domain.models import Product


@dataclass(frozen=True)
class ProductData:
    name: str
    tax_percentage: Decimal


async def create_product(db: Database, viewer: Viewer, data: ProductData) -> Product:
    require_staff(viewer)
    product = Product(
        name=validation.required_text("name", data.name, 200),
        tax_percentage=validation.percentage("tax_percentage", data.tax_percentage),
    )
    async with db.transaction() as session:
        session.add(product)
    return product


async def get_product(db: Database, product_id: int) -> Product | None:
    async with db.read() as session:
        return await session.get(Product, product_id)


async def list_products(db: Database) -> list[Product]:
    async with db.read() as session:
        return list(
            (await session.execute(select(Product).order_by(Product.name, Product.id))).scalars()
        )


async def products_by_id(db: Database, ids: Iterable[int]) -> dict[int, Product]:
    async with db.read() as session:
        rows = await session.execute(select(Product).where(Product.id.in_(set(ids))))
        return {product.id: product for product in rows.scalars()}
