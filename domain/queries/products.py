"""product, products: the catalogue."""

from __future__ import annotations

from sqlalchemy import select

from domain.model.entities import Product
from domain.store.database import Database


async def get_product(db: Database, product_id: int) -> Product | None:
    async with db.read() as session:
        return await session.get(Product, product_id)


async def list_products(db: Database) -> list[Product]:
    async with db.read() as session:
        return list(
            (await session.execute(select(Product).order_by(Product.name, Product.id))).scalars()
        )
