"""AM307 / AM129 for a relationship only a backref declares: `customer.orders`, where Order's
`relationship("Customer", backref="orders")` (in another module) gives Customer its `orders`,
read in an `async def` route on the Customer a dependency loaded on the synchronous Session, is
the lazy load on the event loop a relationship Customer declares itself would be."""

from __future__ import annotations

import pytest

CUSTOMER = """
from sqlalchemy import Column, Integer, String

from models.base import Base


class Customer(Base):
    __tablename__ = "customers"
    id = Column(Integer, primary_key=True)
    email = Column(String(200))
"""

ORDER = """
from sqlalchemy import Column, ForeignKey, Integer, String
from sqlalchemy.orm import backref, relationship

from models.base import Base


class Order(Base):
    __tablename__ = "orders"
    id = Column(Integer, primary_key=True)
    status = Column(String(20))
    customer_id = Column(Integer, ForeignKey("customers.id"))
    customer = relationship("Customer", backref={backref})
"""

# The declarative `Mapped[...]` spelling, the backref built by `backref(...)`.
ORDER_MAPPED = """
from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from models.base import Base
from models.customer import Customer


class Order(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str]
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    customer: Mapped[Customer] = relationship(backref=backref("orders", order_by="Order.id"))
"""

# An unrelated mapped class with a plain column of the backref's name.
SHOP = """
from sqlalchemy import Column, Integer

from models.base import Base


class Shop(Base):
    __tablename__ = "shops"
    id = Column(Integer, primary_key=True)
    orders = Column(Integer, default=0)
"""

BASE = """
from sqlalchemy.orm import declarative_base

Base = declarative_base()
"""

ROUTE = """
from fastapi import Depends
from sqlalchemy.orm import selectinload

from models import Customer


def get_customer(session: session_dependency) -> Customer:
    return session.query(Customer){options}.first()


@router.get("/summary")
async def summary(customer: Customer = Depends(get_customer)):
    return {"orders": len(customer.orders)}
"""


# Importing `models` runs its `__init__`, which imports every model module: the one declaring the
# backref too (SQLAlchemy only knows mapped classes some import ran; so does the pre-pass).
INIT = """
from models.customer import Customer
from models.order import Order
from models.shop import Shop
"""


def models(order: str = ORDER, backref: str = '"orders"') -> dict[str, str]:
    return {
        "models/__init__.py": INIT,
        "models/base.py": BASE,
        "models/customer.py": CUSTOMER,
        "models/order.py": order.replace("{backref}", backref),
        "models/shop.py": SHOP,
    }


@pytest.mark.parametrize(
    ("order", "backref"),
    [(ORDER, '"orders"'), (ORDER, 'backref("orders", lazy="select")'), (ORDER_MAPPED, "")],
    ids=["string", "backref-call", "mapped"],
)
def test_a_backref_read_on_a_dependency_object_is_am307_and_converts_with_am129(app, findings, reported, order, backref):
    root = app(ROUTE.replace("{options}", ""), models(order, backref))
    (finding,) = findings(root, "summary")
    assert finding["code"] == "AM307" and "`customer.orders`" in finding["message"], finding
    entry = reported(root, "summary", "phase1")
    assert (entry["action"], entry["after"], entry["codes"]) == ("convert", "def", ["AM129"]), entry
    assert "`customer.orders`" in entry["reasons"][0] and "api.items.get_customer" in entry["reasons"][0]


def test_a_backref_on_the_other_side_lands_on_the_class_the_relationship_names(app, findings):
    # Customer declares `orders` with backref="customer": Order gets `customer`
    customer = CUSTOMER.replace(
        "from sqlalchemy import Column, Integer, String\n",
        "from sqlalchemy import Column, Integer, String\nfrom sqlalchemy.orm import relationship\n",
    ) + '    orders = relationship("Order", backref="customer")\n'
    order = ORDER.replace('    customer = relationship("Customer", backref={backref})\n', "")
    route = """
    from fastapi import Depends

    from models import Order


    def get_order(session: session_dependency) -> Order:
        return session.get(Order, 1)


    @router.get("/owner")
    async def owner(order: Order = Depends(get_order)):
        return {"email": order.customer.email}
    """
    root = app(route, {**models(order), "models/customer.py": customer})
    (finding,) = findings(root, "owner")
    assert finding["code"] == "AM307" and "`order.customer`" in finding["message"], finding


def test_near_miss_the_dependency_eager_loads_the_backref(app, findings, reported):
    root = app(ROUTE.replace("{options}", ".options(selectinload(Customer.orders))"), models())
    assert findings(root, "summary") == []
    assert reported(root, "summary", "phase1")["codes"] == ["AM105"]


def test_near_miss_a_plain_column_named_like_a_backref_elsewhere(app, findings, reported):
    route = """
    from fastapi import Depends

    from models import Shop


    def get_shop(session: session_dependency) -> Shop:
        return session.get(Shop, 1)


    @router.get("/shop")
    async def shop_orders(shop: Shop = Depends(get_shop)):
        return {"orders": shop.orders}
    """
    root = app(route, models())
    assert findings(root, "shop_orders") == []
    assert reported(root, "shop_orders", "phase1")["codes"] == ["AM105"]


def test_near_miss_a_backref_does_not_land_on_another_target_of_its_class(app, findings, reported):
    # Order also points at Shop, without a backref: `orders` lands on Customer only, and Shop's
    # `orders` stays its column (the backref is of an unrelated class there)
    order = ORDER.replace(
        '    customer = relationship("Customer", backref={backref})\n',
        '    customer = relationship("Customer", backref={backref})\n'
        '    shop_id = Column(Integer, ForeignKey("shops.id"))\n'
        '    shop = relationship("Shop")\n',
    )
    route = """
    from fastapi import Depends

    from models import Shop


    def get_shop(session: session_dependency) -> Shop:
        return session.get(Shop, 1)


    @router.get("/shop")
    async def shop_orders(shop: Shop = Depends(get_shop)):
        return {"orders": shop.orders}
    """
    root = app(route, models(order))
    assert findings(root, "shop_orders") == []
    assert reported(root, "shop_orders", "phase1")["codes"] == ["AM105"]


def test_a_resolver_reading_a_backref_of_its_object_is_am320(app, findings):
    # GraphQL resolvers ask the same question (`self.instance.books` on a `Private[Author]`)
    from graphql_sample import FILES, ROUTER

    files = dict(FILES)
    files["models.py"] = files["models.py"].replace(
        "    author: Mapped[Author] = relationship()", '    author: Mapped[Author] = relationship(backref="books")'
    )
    files["schema.py"] = files["schema.py"].replace(
        "@strawberry.type\nclass Query:",
        "@strawberry.type\nclass AuthorType:\n    id: int\n    instance: strawberry.Private[Author]\n\n"
        "    @strawberry.field\n    def book_count(self) -> int:\n        return len(self.instance.books)\n\n"
        "    @strawberry.field\n    def label(self) -> str:\n        return self.instance.name\n\n\n"
        "@strawberry.type\nclass Query:",
    ).replace("from models import Book\n", "from models import Author, Book\n")
    root = app(ROUTER, files)
    (finding,) = findings(root, "AuthorType.book_count")
    assert finding["code"] == "AM320", finding
    assert any(b["call"].endswith("(lazy load of Author.books)") for b in finding["blocking"]), finding["blocking"]
    # near miss: a column of the same object
    assert findings(root, "AuthorType.label") == []
