"""How to write a listener plugin: the recipe the Plugins dialog shows.

Plain text and no Qt, kept in this one place; the dialog renders it with
:func:`recipe_html`. ``tests/unit/ui/test_plugin_recipe.py`` runs the
Python snippet against the real plugin API and checks the entry-point
group against the one the plugin manager reads, so the recipe cannot rot
silently when the API changes.
"""

from __future__ import annotations

from html import escape

__all__ = ["PLUGIN_CODE", "PYPROJECT_ENTRY", "RECIPE", "recipe_html"]

#: Step 1: a whole plugin. It imports the domain's signals and the plugin
#: API, nothing else of storeapp.
PLUGIN_CODE = """\
# my_package/shout.py
from storeapp.domain.signals import order_created
from storeapp.listeners.api import ListenerPlugin


class ShoutPlugin(ListenerPlugin):
    name = "shout"
    title = "Shout"
    description = "Logs every order in capitals, after it commits."
    listens_to = ("order_created",)

    def ready(self):
        # connect() remembers the receiver for shutdown() and gives it a
        # dispatch_uid, so ready() twice never connects it twice.
        self.connect(order_created, self.on_order, on_commit=True)

    def on_order(self, sender, order, **kwargs):
        # Runs in the thread that placed the order. To touch a widget, hop
        # to the GUI thread: self.host.call_in_gui(fn) or
        # self.host.coalesce("shout", fn) (merged, at most ~20 times a second).
        # A refresh that reads the database:
        # self.host.coalesce_load("shout", load, apply) reads off the GUI thread.
        print(f"ORDER #{order.id} FOR {order.customer.user.username.upper()}")
"""

#: Step 2: the entry point; the group is the one the plugin manager reads.
PYPROJECT_ENTRY = """\
[project.entry-points."storeapp.listeners"]
shout = "my_package.shout:ShoutPlugin"
"""

#: The recipe, step by step: (heading, explanation, code or "").
RECIPE: tuple[tuple[str, str, str], ...] = (
    (
        "1. Write the plugin",
        "Subclass ListenerPlugin and connect your receivers in ready() with the "
        "plugin's own connect(); shutdown() disconnects them when the plugin is "
        "switched off. on_commit=True runs the receiver only after the order is "
        "committed, so a rolled-back order never reaches it. A receiver accepts "
        "**kwargs. Import storeapp.domain and storeapp.listeners.api only: never "
        "the window, the manager or another plugin.",
        PLUGIN_CODE,
    ),
    (
        "2. Register it by entry point",
        "In your package's pyproject.toml, under the storeapp.listeners group. "
        "The name on the left is the plugin's name.",
        PYPROJECT_ENTRY,
    ),
    (
        "3. Install it and restart storeapp",
        "pip install your package into storeapp's environment (pip install -e . "
        "while you work on it) and start storeapp again. The plugin appears in "
        "this list and in the Plugins menu, enabled unless its class says "
        "enabled_by_default = False. If it fails to import or raises in ready(), "
        "it is listed here as failed, with the reason, and the app goes on.",
        "",
    ),
    (
        "No order code changes",
        "Store.place_order already sends order_created; nothing in storeapp is "
        "edited to add a listener. If your receiver raises, the order stands "
        "and the other receivers still run: the failure is logged, counted in "
        "this dialog and shown in the status bar. For a panel, return a QWidget "
        "from create_panel(); to test the plugin without a window, give it a "
        "HeadlessHost (storeapp.listeners.api).",
        "",
    ),
)


def recipe_html() -> str:
    """The recipe as rich text for a QTextBrowser."""
    parts = ["<h2>How to write a plugin</h2>"]
    for heading, text, code in RECIPE:
        parts.append(f"<h3>{escape(heading)}</h3><p>{escape(text)}</p>")
        if code:
            parts.append(f"<pre>{escape(code)}</pre>")
    return "".join(parts)
