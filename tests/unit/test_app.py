"""`make run` on a machine that cannot show a window says why, in words."""

import pytest

from storeapp.app import display_problem, geometry_from


def test_no_display_is_explained_with_the_way_out() -> None:
    problem = display_problem({})
    assert problem is not None and "DISPLAY" in problem and "xvfb-run" in problem


def test_an_explicit_offscreen_platform_needs_no_display() -> None:
    assert display_problem({"QT_QPA_PLATFORM": "offscreen"}) is None


def test_a_wayland_session_is_fine() -> None:
    assert display_problem({"WAYLAND_DISPLAY": "wayland-0"}) is None


def test_settle_after_startup_exempts_startup_objects_from_the_collector() -> None:
    import gc

    from storeapp.app import settle_after_startup

    survivor = [object()]  # something start-up built that lives on
    try:
        settle_after_startup()
        assert gc.get_freeze_count() > 0
        assert not any(o is survivor for o in gc.get_objects())  # no longer walked
    finally:
        gc.unfreeze()


def test_settle_after_startup_drops_the_source_lines_read_at_import() -> None:
    import gc
    import linecache

    from storeapp.app import settle_after_startup

    linecache.getlines(__file__)  # as PySide6's import hook reads each module
    assert __file__ in linecache.cache
    try:
        settle_after_startup()
        assert __file__ not in linecache.cache
    finally:
        gc.unfreeze()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0,0,683,740", (0, 0, 683, 740)),
        ("683, 24, 683, 740", (683, 24, 683, 740)),
        ("", None),
        ("1,2,3", None),
        ("a,b,c,d", None),
        ("0,0,0,740", None),
    ],
)
def test_a_window_geometry_is_four_whole_numbers_or_ignored(text, expected) -> None:
    assert geometry_from(text) == expected
