"""Demo data for a new database: customers, contacts, products and recent charges."""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Literal

from sqlalchemy import func, select

from domain.config import Settings
from domain.model.access import SYSTEM
from domain.model.commands import GenerateRequest, PaymentRequest
from domain.model.entities import Contact, Customer, Product, Transaction
from domain.model.enums import ContactType, EInvoiceFormat, PaymentMethodKind, TransactionKind
from domain.model.money import round_money, tax_amount
from domain.model.periods import Period, local_day, start_of_day
from domain.services.billing import generate_invoice
from domain.services.payments.manual import pay_by_hand
from domain.services.voiding import void_invoice
from domain.store.charges import customers_with_unbilled_charges
from domain.store.database import Database


@dataclass(frozen=True)
class _DemoCustomer:
    name: str
    language: str
    address: tuple[str, str | None, str, str | None, str, str]
    # For e-invoices: a VAT or business number, a Peppol participant id, the format wanted.
    tax_id: str | None = None
    electronic_address: str | None = None
    einvoice_format: EInvoiceFormat | None = None
    # What it is billed in (None: business.currency_code).
    currency: str | None = None


# A demo price list is in dollars; a yen customer's charges are about as much in yen.
_PRICE_SCALE = {"JPY": Decimal(150)}

_CUSTOMERS = [
    _DemoCustomer(
        "Acme Logistics Pty Ltd",
        "en",
        ("12 Wharf Road", "Level 3", "Sydney", "NSW", "2000", "Australia"),
        "95 471 173 493",
        "0151:95471173493",
        EInvoiceFormat.UBL,
    ),
    _DemoCustomer(
        "Blue Harbour Café",
        "en",
        ("4 Esplanade", None, "Cairns", "QLD", "4870", "Australia"),
        "25 999 583 278",
        "0151:25999583278",
        EInvoiceFormat.FACTURX,
    ),
    _DemoCustomer(
        "Compañía Andina de Datos S.A.",
        "es",
        ("Av. Libertador 1450", "Piso 7", "Buenos Aires", "CABA", "C1112", "Argentina"),
        "30-71418936-4",
    ),
    _DemoCustomer(
        "Distribuciones Levante S.L.",
        "es",
        ("Calle de Colón 22", None, "Valencia", "Valencia", "46004", "España"),
        "ESB46123456",
        None,
        EInvoiceFormat.FACTURX,
        "EUR",
    ),
    _DemoCustomer(
        "Evergreen Dental Group",
        "en",
        ("880 Market Street", "Suite 210", "San Francisco", "CA", "94102", "United States"),
    ),
    _DemoCustomer(
        "Fjord & Field Consulting",
        "en",
        ("Strandgaten 15", None, "Bergen", None, "5013", "Norway"),
        "NO987654325MVA",
    ),
    _DemoCustomer(
        "Greenway Farms Co-op",
        "en",
        ("RR 2, Box 118", None, "Ames", "IA", "50010", "United States"),
    ),
    _DemoCustomer(
        "Hotel Miramar Cancún",
        "es",
        ("Blvd. Kukulcán km 9.5", "Zona Hotelera", "Cancún", "Q. Roo", "77500", "México"),
        "HMC010101AB1",
    ),
    _DemoCustomer(
        "Kaizen Robotics K.K.",
        "en",
        ("2-4-1 Marunouchi", "12F", "Chiyoda-ku", "Tokyo", "100-0005", "Japan"),
        None,
        None,
        None,
        "JPY",
    ),
]

# Name, tax %, price range, and why untaxed charges are exempt (else they are zero rated).
_PRODUCTS = [
    ("Mobile plan 20 GB", Decimal("10.00"), (Decimal("29.90"), Decimal("49.90")), None),
    ("Internet 100 Mbps", Decimal("21.00"), (Decimal("59.00"), Decimal("89.00")), None),
    ("Data overage 1 GB", Decimal("10.00"), (Decimal("4.50"), Decimal("9.00")), None),
    ("Installation service", Decimal("0.00"), (Decimal("120.00"), Decimal("250.00")), None),
    ("Router rental", Decimal("21.00"), (Decimal("7.50"), Decimal("12.00")), None),
    ("Support hour", Decimal("0.00"), (Decimal("65.00"), Decimal("95.00")), None),
    (
        "Payment-plan interest",
        Decimal("0.00"),
        (Decimal("1.20"), Decimal("6.80")),
        "Input-taxed financial supply",
    ),
]


@dataclass(frozen=True)
class SeedReport:
    customers: int
    products: int
    transactions: int
    invoices: int = 0


def _ascii_slug(word: str) -> str:
    plain = unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain.lower() if ch.isalnum())


async def database_is_empty(db: Database) -> bool:
    async with db.read() as session:
        return (await session.execute(select(func.count()).select_from(Customer))).scalar_one() == 0


async def seed_demo_data(
    db: Database, settings: Settings, transactions: int = 300, seed: int = 2025
) -> SeedReport:
    """Fill an empty database; the same seed gives the same data."""
    rng = random.Random(seed)
    now = db.now()
    async with db.transaction() as session:
        customers = []
        for demo in _CUSTOMERS:
            line1, line2, city, state, zip_code, country = demo.address
            customer = Customer(
                name=demo.name,
                language=demo.language,
                address_line_1=line1,
                address_line_2=line2,
                city=city,
                state=state,
                zip_code=zip_code,
                country=country,
                tax_id=demo.tax_id,
                electronic_address=demo.electronic_address,
                einvoice_format=demo.einvoice_format,
                currency=demo.currency or settings.business.currency_code,
            )
            customers.append(customer)
        session.add_all(customers)
        products = [
            Product(name=name, tax_percentage=tax, tax_exemption_reason=reason)
            for name, tax, _, reason in _PRODUCTS
        ]
        session.add_all(products)
        await session.flush()

        for index, customer in enumerate(customers):
            domain = _ascii_slug(customer.name.split()[0]) + ".example"
            session.add(
                Contact(
                    customer_id=customer.id,
                    name="Accounts Payable",
                    email=f"ap@{domain}",
                    type=ContactType.BILLING,
                )
            )
            session.add(
                Contact(
                    customer_id=customer.id,
                    name=f"Owner {index + 1}",
                    email=f"owner@{domain}",
                    type=ContactType.PRIMARY,
                )
            )

        for _ in range(transactions):
            customer = rng.choice(customers)
            product_index = rng.randrange(len(products))
            product = products[product_index]
            low, high = _PRODUCTS[product_index][2]
            price = Decimal(rng.randint(int(low * 100), int(high * 100))).scaleb(-2)
            cost = round_money(price * _PRICE_SCALE.get(customer.currency, 1), customer.currency)
            created = now - timedelta(days=rng.uniform(0, 90))
            session.add(
                Transaction(
                    kind=TransactionKind.CHARGE,
                    customer_id=customer.id,
                    product_id=product.id,
                    title=product.name,
                    description=f"{product.name} for {customer.name}",
                    created_at=created,
                    retail_cost=cost,
                    tax_percentage=product.tax_percentage,
                    tax_amount=tax_amount(cost, product.tax_percentage, customer.currency),
                    tax_exemption_reason=product.tax_exemption_reason,
                )
            )
    invoices = await _bill_past_months(db, settings, rng)
    return SeedReport(
        customers=len(customers),
        products=len(products),
        transactions=transactions,
        invoices=invoices,
    )


Settlement = PaymentMethodKind | Literal["void", "part"] | None

_SETTLEMENTS: list[Settlement] = [
    PaymentMethodKind.CASH,
    PaymentMethodKind.POS,
    PaymentMethodKind.BANK_TRANSFER,
    PaymentMethodKind.REFUND,
    None,
    "void",
]


async def _bill_past_months(db: Database, settings: Settings, rng: random.Random) -> int:
    """Monthly invoices for the three months before this one, in every state: paid by
    each manual method, unpaid, and void. This month's charges stay unbilled."""
    zone = settings.business.zone
    first_of_month = local_day(db.now(), zone).replace(day=1)
    made = 0
    for months_back in (3, 2, 1):
        end = first_of_month
        for _ in range(months_back - 1):
            end = (end - timedelta(days=1)).replace(day=1)
        start = (end - timedelta(days=1)).replace(day=1)
        last_day = end - timedelta(days=1)
        issued = start_of_day(end, zone) + timedelta(hours=9)
        for customer_id in await customers_with_unbilled_charges(db, zone, Period(start, last_day)):
            request = GenerateRequest(
                customer_id=customer_id,
                start_date=start,
                end_date=last_day,
                due_date=last_day + timedelta(days=15),
            )
            invoice = await generate_invoice(db, settings, SYSTEM, request, issued_at=issued)
            made += 1
            # Older months are mostly settled; last month's mostly still open.
            last_months: list[Settlement] = [None, None, "part", PaymentMethodKind.CASH, "void"]
            settlement = rng.choice(_SETTLEMENTS if months_back > 1 else last_months)
            if settlement == "void":
                await void_invoice(db, SYSTEM, invoice.id)
            elif settlement == "part" and invoice.total > 1:
                # Paid in part by bank transfer: a balance still due.
                half = round_money(invoice.total / 2, invoice.currency)
                await pay_by_hand(
                    db,
                    SYSTEM,
                    PaymentRequest(
                        invoice.id,
                        PaymentMethodKind.BANK_TRANSFER,
                        f"Bank transfer {last_day + timedelta(days=3)} (part)",
                        amount=half,
                    ),
                )
            elif isinstance(settlement, PaymentMethodKind):
                reference = f"{settlement.value.replace('_', ' ').title()} {last_day + timedelta(days=rng.randint(1, 14))}"
                await pay_by_hand(db, SYSTEM, PaymentRequest(invoice.id, settlement, reference))
    return made
