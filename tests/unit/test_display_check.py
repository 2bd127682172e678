"""The start-up check names what keeps a window from opening, and the fix,
from the loader's errors (faked here: no library is uninstalled)."""

from __future__ import annotations

import pytest

from storeapp.display_check import (
    debian_package,
    display_problem,
    missing_library,
    xcb_plugin_problem,
)

PLUGIN = "/venv/PySide6/Qt/plugins/platforms/libqxcb.so"


def not_found(soname: str) -> OSError:
    return OSError(f"{soname}: cannot open shared object file: No such file or directory")


class FakeLoader:
    """Refuses the plugin with the first missing library's error (as the
    loader does) and any missing library loaded alone; records each call."""

    def __init__(self, *missing: str) -> None:
        self.missing = missing
        self.loaded: list[str] = []

    def __call__(self, name: str) -> object:
        self.loaded.append(name)
        if name.endswith("platforms/libqxcb.so") and self.missing:
            raise not_found(self.missing[0])
        if name in self.missing:
            raise not_found(name)
        return object()


def test_one_missing_library_is_named_with_the_package_that_brings_it() -> None:
    problem = xcb_plugin_problem(FakeLoader("libxcb-icccm.so.4"), PLUGIN)

    assert problem is not None
    assert "libxcb-icccm.so.4 is missing" in problem
    assert problem.endswith("sudo apt-get install libxcb-icccm4")


def test_every_missing_library_is_named_at_once_not_one_per_start() -> None:
    loader = FakeLoader("libxcb-cursor.so.0", "libxkbcommon-x11.so.0", "libgthread-2.0.so.0")

    problem = xcb_plugin_problem(loader, PLUGIN)

    assert problem is not None
    assert "libxcb-cursor.so.0, libxkbcommon-x11.so.0, libgthread-2.0.so.0 are missing" in problem
    assert problem.endswith("sudo apt-get install libxcb-cursor0 libxkbcommon-x11-0 libglib2.0-0")
    assert loader.loaded[0] == PLUGIN  # the plugin first, as Qt loads it


def test_a_plugin_that_loads_is_no_problem_and_nothing_else_is_tried() -> None:
    loader = FakeLoader()

    assert xcb_plugin_problem(loader, PLUGIN) is None
    assert loader.loaded == [PLUGIN]


def test_a_loader_error_that_names_no_missing_library_says_what_to_reinstall() -> None:
    def load(name: str) -> object:
        raise OSError(f"{PLUGIN}: undefined symbol: _ZN7QWindow4showEv")

    problem = xcb_plugin_problem(load, PLUGIN)

    assert problem is not None
    assert "undefined symbol" in problem and "rm -rf .venv" in problem
    assert "libxcb-cursor0" in problem


def test_no_display_says_how_to_run_under_xvfb_run() -> None:
    problem = display_problem({}, platform="linux")

    assert problem is not None
    assert "DISPLAY" in problem and "xvfb-run -a make run" in problem
    assert "apt-get install xvfb" in problem


def test_a_display_whose_x11_plugin_cannot_load_is_explained() -> None:
    problem = display_problem(
        {"DISPLAY": ":0"}, load=FakeLoader("libxcb-icccm.so.4"), platform="linux"
    )
    assert problem is not None and "libxcb-icccm4" in problem


def test_offscreen_wayland_and_other_systems_are_left_to_qt() -> None:
    refuse = FakeLoader("libxcb-icccm.so.4")
    assert display_problem({"QT_QPA_PLATFORM": "offscreen"}, refuse, "linux") is None
    assert display_problem({"WAYLAND_DISPLAY": "wayland-0"}, refuse, "linux") is None
    assert display_problem({}, refuse, "darwin") is None
    assert refuse.loaded == []


@pytest.mark.parametrize(
    ("soname", "package"),
    [
        ("libxcb-icccm.so.4", "libxcb-icccm4"),
        ("libxcb-render-util.so.0", "libxcb-render-util0"),
        ("libX11-xcb.so.1", "libx11-xcb1"),
        ("libX11.so.6", "libx11-6"),
        ("libxkbcommon-x11.so.0", "libxkbcommon-x11-0"),
        ("libEGL.so.1", "libegl1"),
        ("libdbus-1.so.3", "libdbus-1-3"),
        ("libglib-2.0.so.0", "libglib2.0-0"),
    ],
)
def test_a_library_is_named_by_its_debian_package(soname: str, package: str) -> None:
    assert debian_package(soname) == package


def test_the_missing_library_is_read_from_the_loaders_error() -> None:
    assert missing_library(str(not_found("libxcb-xkb.so.1"))) == "libxcb-xkb.so.1"
    assert missing_library("libfoo.so.1: wrong ELF class: ELFCLASS32") is None
