"""UI tests of storeapp.ui.till: the cashier's side of the window (customer,
catalogue, cart, orders), driven through the real window."""
