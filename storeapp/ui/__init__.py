"""The window: the frame (menus, plugin docks), the till (customer, catalogue,
cart, orders), table models, dialogs and the GUI-thread bridge."""
