"""Customer orders."""

from typing import Annotated

from fastapi import APIRouter, Depends, status

from core.dependencies import (
    admin_dependency,
    current_user_dependency,
    get_request_id,
    session_dependency,
)
from schemas.order import OrderCreate, OrderOut
from services import notifier, order_helper

router = APIRouter(prefix="/orders", tags=["orders"])


# async-migrate: ignore[blocking-session] awaits the order notification; place_order and commit move to AsyncSession
@router.post("", response_model=OrderOut, status_code=status.HTTP_201_CREATED)
async def create_order(
    payload: OrderCreate,
    user: current_user_dependency,
    session: session_dependency,
    request_id: Annotated[str, Depends(get_request_id)],
):
    order = order_helper.place_order(session, user, payload.lines, note=payload.note)
    session.commit()
    await notifier.send(
        "order.placed",
        {"order_id": order.id, "user_id": user.id, "total_cents": order.total_cents, "request_id": request_id},
    )
    return order


@router.get("", response_model=list[OrderOut])
async def list_my_orders(user: current_user_dependency, session: session_dependency):
    return order_helper.list_orders_for_user(session, user.id)


@router.get("/all", response_model=list[OrderOut])
def list_all_orders(admin: admin_dependency, session: session_dependency):
    return order_helper.list_all_orders(session)


@router.get("/{order_id}", response_model=OrderOut)
async def get_order(order_id: int, user: current_user_dependency, session: session_dependency):
    return order_helper.get_order_for_user(session, order_id, user)


@router.post("/{order_id}/cancel", response_model=OrderOut)
async def cancel_order(order_id: int, user: current_user_dependency, session: session_dependency):
    order = order_helper.get_order_for_user(session, order_id, user)
    return order_helper.cancel_order(session, order)
