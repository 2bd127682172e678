"""The till: the cashier's side of the window (customer, catalogue, cart,
orders): their panes, and the actions and refreshes that talk to the store."""
