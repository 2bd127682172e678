"""The carts' use cases: a till's basket before checkout."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from storeapp.domain.errors import NotFound, OutOfStock, ValidationError
from storeapp.domain.models import Cart, CartItem, Product
from storeapp.domain.store.uow import Services
from storeapp.domain.store.validation import MAX_QUANTITY, clean_cart_id, clean_id, clean_int


def load_cart(s: Session, cart_id: uuid.UUID) -> Cart:
    """The cart with its lines and their products loaded, fresh from the database."""
    cart = s.get(
        Cart,
        cart_id,
        options=[selectinload(Cart.items).selectinload(CartItem.product)],
        populate_existing=True,
    )
    if cart is None:
        raise NotFound(f"Cart {cart_id} does not exist.")
    return cart


class CartServices(Services):
    """Creating carts and changing their lines; stock is checked, not taken."""

    def create_cart(self) -> Cart:
        with self.units.write() as uow:
            cart = Cart()
            uow.session.add(cart)
            uow.flush()
            set_committed_value(cart, "items", [])
            uow.commit()
        return cart

    def get_cart(self, cart_id: Any) -> Cart:
        cart_id = clean_cart_id(cart_id)
        with self.units.read() as s:
            return load_cart(s, cart_id)

    def add_to_cart(self, cart_id: Any, product_id: int, quantity: int = 1) -> Cart:
        """Add ``quantity`` of a product (adds to a line already there)."""
        cart_id = clean_cart_id(cart_id)
        product_id = clean_id(product_id, "Product")
        quantity = clean_int(quantity, "quantity", "Quantity", 1, MAX_QUANTITY)
        return self._set_line(cart_id, product_id, quantity, add=True)

    def set_cart_quantity(self, cart_id: Any, product_id: int, quantity: int) -> Cart:
        """Set a cart line's quantity (0 removes the line)."""
        cart_id = clean_cart_id(cart_id)
        product_id = clean_id(product_id, "Product")
        quantity = clean_int(quantity, "quantity", "Quantity", 0, MAX_QUANTITY)
        if quantity == 0:
            return self.remove_from_cart(cart_id, product_id)
        return self._set_line(cart_id, product_id, quantity, add=False)

    def _set_line(self, cart_id: uuid.UUID, product_id: int, quantity: int, add: bool) -> Cart:
        with self.units.write() as uow:
            s = uow.session
            cart = load_cart(s, cart_id)
            product = s.get(Product, product_id)
            if product is None:
                raise NotFound(f"Product {product_id} does not exist.")
            item = next((i for i in cart.items if i.product_id == product_id), None)
            wanted = quantity + (item.quantity if item is not None and add else 0)
            if wanted > MAX_QUANTITY:
                raise ValidationError(f"Quantity must be at most {MAX_QUANTITY:,}.", "quantity")
            if wanted > product.inventory:
                raise OutOfStock(product.name, wanted, product.inventory)
            if item is None:
                cart.items.append(CartItem(product=product, quantity=wanted))
            else:
                item.quantity = wanted
            uow.flush()
            uow.commit()
        return cart

    def remove_from_cart(self, cart_id: Any, product_id: int) -> Cart:
        cart_id = clean_cart_id(cart_id)
        product_id = clean_id(product_id, "Product")
        with self.units.write() as uow:
            s = uow.session
            cart = load_cart(s, cart_id)
            item = next((i for i in cart.items if i.product_id == product_id), None)
            if item is None:
                raise NotFound(f"Product {product_id} is not in this cart.")
            cart.items.remove(item)
            uow.flush()
            uow.commit()
        return cart
