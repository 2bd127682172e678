"""What the cashier does at the till: register, find and add products,
change and empty the cart, check out; the shortcuts; and the messages, each
shown once, in the pane it is about.

:class:`CashierActions` is the :class:`storeapp.ui.till.till.Till`'s half
that acts; the other half lays out the panes and keeps them up to date.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget

from storeapp.domain import DomainError, NotFound, Store, ValidationError
from storeapp.ui.models import money
from storeapp.ui.till.panes import CartPane, CataloguePane, CustomerPane
from storeapp.ui.till.widgets import MessageLine

logger = logging.getLogger("storeapp.ui")


def cashier_action(place: Any = "cart") -> Any:
    """Run a UI action; domain errors become a message in ``place`` (the
    pane the action belongs to: ``customer``, ``catalogue`` or ``cart``,
    the default when used bare as ``@cashier_action``); anything else is
    logged and shown there as a short notice, never as a traceback.
    Arguments a Qt signal passes (a button's ``checked``) are dropped."""

    def decorate(method: Callable[..., Any], where: str) -> Callable[..., Any]:
        @functools.wraps(method)
        def wrapper(self: CashierActions, *args: Any) -> Any:
            return self.guarded(where, lambda: method(self), method.__name__)

        return wrapper

    if callable(place):
        return decorate(place, "cart")
    return lambda method: decorate(method, place)


class CashierActions:
    """The cashier's actions; mixed into the Till, which provides the panes
    and the reloads.

    Each customer has a cart of their own (``carts``: user id -> cart id;
    None: the cart filled with nobody picked, which goes to the first
    customer picked). Checkout charges the customer whose cart it is.
    """

    store: Store
    customer: CustomerPane
    catalogue: CataloguePane
    cart: CartPane
    carts: dict[int | None, Any]
    messages: dict[str, MessageLine]
    _serving: int | None

    def current_user_id(self) -> int | None:
        return self.customer.current_user_id()

    def reload_orders(self) -> None:
        raise NotImplementedError

    def reload_products(self) -> None:
        raise NotImplementedError

    def reload_customers(self) -> None:
        raise NotImplementedError

    def refresh_cart(self, cart: Any) -> None:
        self.cart.show_cart(cart)

    def make_actions(self, owner: QWidget) -> list[QAction]:
        """The cashier's shortcuts, for the window's Till menu (``owner``:
        the till); the buttons' tooltips name them."""

        def action(
            name: str, text: str, keys: list[str], slot: Callable[[], Any], where: QWidget
        ) -> QAction:
            act = QAction(text, owner)
            act.setObjectName(name)
            act.setShortcuts([QKeySequence(k) for k in keys])
            act.setShortcutContext(
                Qt.ShortcutContext.WindowShortcut
                if where is owner
                else Qt.ShortcutContext.WidgetWithChildrenShortcut
            )
            act.triggered.connect(lambda _checked=False: slot())
            where.addAction(act)
            return act

        actions = [
            action("findProductAction", "&Find product", ["Ctrl+F"], self.focus_search, owner),
            action("newCustomerAction", "&New customer", ["Ctrl+N"], self.new_customer, owner),
            action(
                "changeQuantityAction", "Change &quantity", ["F2"], self.edit_quantity, self.cart
            ),
            action(
                "removeLineAction",
                "&Remove cart line",
                ["Delete"],
                self.remove_from_cart,
                self.cart,
            ),
            action("checkoutAction", "&Checkout", ["Ctrl+Return", "F12"], self.checkout, owner),
        ]
        tips = {
            self.catalogue.search: ("Scan or type a SKU and press Enter to add it", actions[0]),
            self.customer.fields["username"]: ("A new customer's name", actions[1]),
            self.cart.remove_button: ("Remove the selected line from the cart", actions[3]),
            self.cart.checkout_button: ("Place the order for the customer served", actions[4]),
        }
        for widget, (tip, act) in tips.items():
            keys = act.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            widget.setToolTip(f"{tip} ({keys})")
        self.cart.table.setToolTip("F2, Enter or a digit: change the quantity; Delete: remove")
        self.catalogue.add_button.setToolTip("Add the selected product (Enter in the list)")
        return actions

    @property
    def cart_id(self) -> Any:
        """The cart of the customer being served (None: not started yet)."""
        return self.carts.get(self._serving)

    def _cart_for_serving(self) -> Any:
        if self.cart_id is None:
            self.carts[self._serving] = self.store.create_cart().id
        return self.cart_id

    def serve_picked(self) -> None:
        """The cashier picked whom to serve: show that customer's cart.

        The cart of the customer served before stays theirs, to be taken
        up when they are picked again; a cart filled with nobody picked
        goes to the customer picked now. Checkout never charges a customer
        for a cart that is not theirs."""
        user_id = self.current_user_id()
        if user_id == self._serving:
            return
        if self._serving is None and user_id not in self.carts and None in self.carts:
            self.carts[user_id] = self.carts.pop(None)
        self._serving = user_id
        self.reload_orders()
        cart = None
        if self.cart_id is not None:
            try:
                cart = self.store.get_cart(self.cart_id)
            except NotFound:  # checked out or removed elsewhere
                self.carts.pop(user_id, None)
        self.refresh_cart(cart)
        customer = self.customer.model.row_at(self.customer.picker.currentIndex())
        if customer is not None and cart is not None and cart.items:
            lines = len(cart.items)
            self.show_info(
                f"Serving {customer.user.username}: "
                f"their cart ({lines} line{'s' if lines != 1 else ''})."
            )
        else:
            self.clear_messages()

    @cashier_action("customer")
    def register_customer(self) -> None:
        self.customer.clear_errors()
        values = self.customer.values()
        try:
            user = self.store.register_user(values["username"], values["email"], values["password"])
        except ValidationError as exc:
            self.show_message("customer", str(exc), error=True)
            if not self.customer.mark_field(exc.field):
                self.customer.fields["username"].setFocus()
            return
        self.customer.clear_fields()
        self.reload_customers()
        self.customer.select(user.id)
        self.show_message("customer", f"Registered {user.username}; now serving them.")
        self.catalogue.reset_search()  # next: the new customer's products

    def new_customer(self) -> None:
        """An empty registration form, the cursor in Username (Ctrl+N)."""
        self.customer.start_new()
        self.clear_messages()

    def focus_search(self) -> None:
        """The cursor in the search, its text selected (Ctrl+F)."""
        self.catalogue.search.setFocus()
        self.catalogue.search.selectAll()

    @cashier_action("catalogue")
    def add_from_search(self) -> None:
        """Enter in the search (a scanner's code, or typed): add the product
        whose SKU it is, or the only one it matches, with Qty's quantity."""
        text = self.catalogue.search.text().strip()
        if not text:
            self.show_message("catalogue", "Scan or type a SKU or a name first.", error=True)
            self.focus_search()
            return
        found = self.catalogue.matches(text)
        if len(found) == 1:
            self._add(found[0])
        elif not found:
            self.show_message("catalogue", f"No product matches {text!r}.", error=True)
            self.focus_search()  # selected: the next scan replaces it
        else:
            self.show_message(
                "catalogue",
                f"{len(found)} products match {text!r}: press Down to pick one, then Enter.",
                error=False,
            )

    @cashier_action("catalogue")
    def add_to_cart(self) -> None:
        product = self.catalogue.selected_product()
        if product is None:
            self.show_message("catalogue", "Select a product in the catalogue first.", error=True)
            return
        self._add(product)

    def _add(self, product: Any) -> None:
        quantity = self.catalogue.quantity.value()
        try:
            cart = self.store.add_to_cart(self._cart_for_serving(), product.id, quantity)
        except DomainError:
            self.focus_search()
            raise
        self.refresh_cart(cart)
        self.catalogue.reset_search()
        self.show_message("catalogue", f"Added {quantity} × {product.name}.")
        self._select_cart_line(product.id)

    def _select_cart_line(self, product_id: int) -> None:
        row = self.cart.model.row_of(product_id)
        if row >= 0:
            self.cart.table.selectRow(row)

    def edit_quantity(self) -> None:
        """Open the selected cart line's quantity (F2)."""
        if not self.cart.table.edit_quantity():
            self.show_message("cart", "Select a cart line to change its quantity.", error=True)

    def _quantity_edited(self, row: int, quantity: int) -> None:
        # Called while the view commits its editor: act once it has closed.
        item = self.cart.model.row_at(row)
        if item is not None:
            QTimer.singleShot(0, lambda: self.set_line_quantity(item.product_id, quantity))

    def set_line_quantity(self, product_id: int, quantity: int) -> None:
        """Change a cart line's quantity (0 removes it); stock is checked
        as when adding, and a refused change leaves the line as it was."""
        self.guarded("cart", lambda: self._set_line_quantity(product_id, quantity), "set quantity")

    def _set_line_quantity(self, product_id: int, quantity: int) -> None:
        if self.cart_id is None:
            return
        try:
            cart = self.store.set_cart_quantity(self.cart_id, product_id, quantity)
        except DomainError:
            self.refresh_cart(self.store.get_cart(self.cart_id))
            self._select_cart_line(product_id)
            raise
        self.refresh_cart(cart)
        item = next((i for i in cart.items if i.product_id == product_id), None)
        if item is None:
            self.show_message("cart", "Line removed.")
        else:
            self.show_message("cart", f"{item.quantity} × {item.product.name} in the cart.")
            self._select_cart_line(product_id)
        self.cart.table.setFocus()

    @cashier_action("cart")
    def remove_from_cart(self) -> None:
        item = self.cart.selected_item()
        if item is None or self.cart_id is None:
            self.show_message("cart", "Select a cart line to remove.", error=True)
            return
        row = self.cart.table.currentIndex().row()
        self.refresh_cart(self.store.remove_from_cart(self.cart_id, item.product_id))
        self.show_message("cart", f"Removed {item.product.name}.")
        if self.cart.model.rowCount():
            self.cart.table.selectRow(min(row, self.cart.model.rowCount() - 1))
            self.cart.table.setFocus()
        else:
            self.catalogue.search.setFocus()

    @cashier_action("cart")
    def checkout(self) -> None:
        user_id = self.current_user_id()
        if user_id is None:
            self.show_message("cart", "Pick a customer before checking out.", error=True)
            self.customer.picker.setFocus()
            return
        if self.cart_id is None or not self.cart.model.rowCount():
            self.show_message("cart", "The cart is empty: add a product first.", error=True)
            self.catalogue.search.setFocus()
            return
        order = self.store.place_order(self.cart_id, user_id)
        self.carts.pop(user_id, None)
        self.refresh_cart(None)
        self.reload_orders()
        self.reload_products()
        self.show_info(
            f"Order #{order.id} placed for {order.customer.user.username}: {money(order.total)}."
        )
        self.catalogue.reset_search()

    # --------------------------------------------------------------- messages

    def guarded(self, place: str, action: Callable[[], Any], name: str) -> Any:
        """Run ``action``; a refusal is shown in ``place``, anything else is
        logged and shown there in a sentence."""
        try:
            return action()
        except DomainError as exc:
            self.show_message(place, str(exc), error=True)
        except Exception as exc:
            logger.exception("Unexpected error in %s", name)
            self.show_message(
                place,
                f"Something went wrong ({type(exc).__name__}); nothing was lost. "
                "Details are in the log.",
                error=True,
            )
        return None

    def show_message(self, place: str, text: str, *, error: bool = False) -> None:
        """Show ``text`` in ``place``'s message line, and clear the others:
        one message at a time, next to what it is about."""
        for where, line in self.messages.items():
            if where == place:
                line.show_text(text, error=error)
            else:
                line.clear_text()

    def clear_messages(self) -> None:
        for line in self.messages.values():
            line.clear_text()

    def show_error(self, text: str) -> None:
        """A message about the till as a whole (under the cart)."""
        self.show_message("cart", text, error=True)

    def show_info(self, text: str) -> None:
        self.show_message("cart", text, error=False)
