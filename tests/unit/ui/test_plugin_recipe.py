"""The recipe the Plugins dialog shows is real code against the real API."""

from __future__ import annotations

import inspect
import tomllib
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

import storeapp.listeners.api as api
from storeapp.domain import models
from storeapp.domain.signals import order_created
from storeapp.listeners.manager import PluginManager
from storeapp.ui.plugin_recipe import PLUGIN_CODE, PYPROJECT_ENTRY, RECIPE, recipe_html


def run_recipe() -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": "my_package.shout"}
    exec(compile(PLUGIN_CODE, "my_package/shout.py", "exec"), namespace)
    return namespace


def test_the_plugin_snippet_compiles_and_names_the_real_api() -> None:
    compile(PLUGIN_CODE, "my_package/shout.py", "exec")
    assert hasattr(api, "ListenerPlugin")
    assert "ListenerPlugin" in api.__all__
    assert "on_commit" in inspect.signature(api.ListenerPlugin.connect).parameters
    # The attributes the receiver reads exist on the models it is given.
    assert hasattr(models.Order, "customer") and hasattr(models.Customer, "user")
    assert hasattr(models.User, "username")


def test_the_entry_point_group_is_the_one_the_manager_reads() -> None:
    group = inspect.signature(PluginManager.__init__).parameters["group"].default
    assert group == api.ENTRY_POINT_GROUP
    entry_points = tomllib.loads(PYPROJECT_ENTRY)["project"]["entry-points"]
    assert list(entry_points) == [group]
    (name, target), *_ = entry_points[group].items()
    module, _, cls_name = target.partition(":")
    plugin_cls = run_recipe()[cls_name]
    assert plugin_cls.name == name
    assert PLUGIN_CODE.startswith(f"# {module.replace('.', '/')}.py\n")


def test_the_recipe_plugin_connects_one_after_commit_receiver_to_order_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plugin_cls = run_recipe()["ShoutPlugin"]
    assert issubclass(plugin_cls, api.ListenerPlugin)
    assert plugin_cls.listens_to == ("order_created",)
    plugin = plugin_cls(api.HeadlessHost(store=cast(Any, None), data_dir=tmp_path))
    plugin.ready()
    plugin.ready()  # twice: still one connection (dispatch_uid)
    try:
        mine = [
            info
            for info in order_created.receivers_info()
            if str(info.dispatch_uid).startswith("shout:")
        ]
        assert len(mine) == 1 and mine[0].on_commit
        user = SimpleNamespace(username="ada")
        order = SimpleNamespace(id=7, customer=SimpleNamespace(user=user))
        mine[0].receiver(sender=None, order=order, signal=order_created)
        assert capsys.readouterr().out == "ORDER #7 FOR ADA\n"
    finally:
        plugin.shutdown()
    assert not any(
        str(info.dispatch_uid).startswith("shout:") for info in order_created.receivers_info()
    )


def test_the_recipe_says_no_order_code_changes_and_renders_every_step() -> None:
    headings = [heading for heading, _text, _code in RECIPE]
    assert "No order code changes" in headings
    html = recipe_html()
    for heading in headings:
        assert heading in html
    assert "self.connect(order_created, self.on_order, on_commit=True)" in html
    assert "[project.entry-points.&quot;storeapp.listeners&quot;]" in html


def test_the_readme_shows_the_same_recipe_as_the_plugins_dialog():
    """One recipe: the README's "Writing one" and the dialog's tab cannot drift apart."""
    from pathlib import Path

    from storeapp.ui.plugin_recipe import PLUGIN_CODE, PYPROJECT_ENTRY

    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8")

    assert f"```python\n{PLUGIN_CODE}```" in readme
    assert f"```toml\n{PYPROJECT_ENTRY}```" in readme
