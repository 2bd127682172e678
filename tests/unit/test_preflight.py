"""`make run` on a machine that cannot show a window says why, in words."""

from storeapp.app import display_problem


def test_no_display_is_explained_with_the_way_out() -> None:
    problem = display_problem({})
    assert problem is not None and "DISPLAY" in problem and "xvfb-run" in problem


def test_an_explicit_offscreen_platform_needs_no_display() -> None:
    assert display_problem({"QT_QPA_PLATFORM": "offscreen"}) is None


def test_a_wayland_session_is_fine() -> None:
    assert display_problem({"WAYLAND_DISPLAY": "wayland-0"}) is None
