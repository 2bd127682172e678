"""Before Qt starts: can a window open here? If not, say why and what fixes it.

Qt's own failure on Linux is an abort ("could not load the Qt platform
plugin xcb") with a hint a new user cannot act on. So :func:`display_problem`
looks first: no display at all (a server, a container: use ``xvfb-run``),
or a library Qt's X11 platform plugin needs that the system lacks. For the
latter it loads the plugin's shared library (``PySide6/Qt/plugins/platforms/
libqxcb.so``) with ctypes, as Qt will; the loader's error names the first
library it could not find, then each library the plugin links against is
tried alone to find the others, and each is named with the Debian/Ubuntu
package that ships it. No Qt is imported here.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

#: Loads a shared library by path or name; raises OSError with the loader's
#: error (ctypes.CDLL). Tests pass fakes.
Loader = Callable[[str], object]

#: What the X11 plugin (``libqxcb.so`` and ``libQt6XcbQpa.so.6``) links
#: against besides Qt and the C/C++ runtime (PySide6 6.11, ``readelf -d``).
XCB_PLUGIN_NEEDS = (
    "libxcb-cursor.so.0",
    "libxcb-icccm.so.4",
    "libxcb-util.so.1",
    "libxcb-image.so.0",
    "libxcb-keysyms.so.1",
    "libxcb-randr.so.0",
    "libxcb-render.so.0",
    "libxcb-render-util.so.0",
    "libxcb-shape.so.0",
    "libxcb-shm.so.0",
    "libxcb-sync.so.1",
    "libxcb-xfixes.so.0",
    "libxcb-xkb.so.1",
    "libxcb.so.1",
    "libxkbcommon.so.0",
    "libxkbcommon-x11.so.0",
    "libX11-xcb.so.1",
    "libX11.so.6",
    "libGL.so.1",
    "libglib-2.0.so.0",
    "libgthread-2.0.so.0",
)

#: Every package the X11 plugin may need, for an error that names none.
XCB_PACKAGES = (
    "libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 "
    "libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libxkbcommon-x11-0 "
    "libegl1 libgl1 libfontconfig1"
)

#: Libraries whose Debian package does not follow the naming rule of
#: :func:`debian_package`.
PACKAGE_EXCEPTIONS = {
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libgobject-2.0.so.0": "libglib2.0-0",
}

_MISSING = re.compile(r"([\w.+-]+\.so(?:\.\d+)*): cannot open shared object file")
_SONAME = re.compile(r"^lib(?P<name>.+)\.so\.(?P<version>[\d.]+)$")

NO_DISPLAY = (
    "no display found (DISPLAY is not set), so no window can open. Run it from a "
    "desktop session, or on a machine without a screen under a virtual one: "
    "xvfb-run -a make run   (Xvfb on Debian/Ubuntu: sudo apt-get install xvfb)"
)


def debian_package(soname: str) -> str:
    """The Debian/Ubuntu package that ships ``soname``, by Debian's naming
    rule (``libfoo.so.1`` is in ``libfoo1``; a name ending in a digit takes a
    hyphen: ``libX11.so.6`` is in ``libx11-6``), or a known exception."""
    if soname in PACKAGE_EXCEPTIONS:
        return PACKAGE_EXCEPTIONS[soname]
    match = _SONAME.match(soname)
    if match is None:
        return soname
    name, version = match["name"].lower(), match["version"]
    return f"lib{name}{'-' if name[-1].isdigit() else ''}{version}"


def missing_library(error: str) -> str | None:
    """The library the loader could not find, from its error (None if the
    error is about something else: a bad symbol, a wrong architecture)."""
    match = _MISSING.search(error)
    return match.group(1) if match else None


def xcb_plugin_path() -> Path | None:
    """PySide6's X11 platform plugin, if PySide6 is installed and ships one."""
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    plugin = Path(spec.submodule_search_locations[0], "Qt/plugins/platforms/libqxcb.so")
    return plugin if plugin.exists() else None


def xcb_plugin_problem(
    load: Loader | None = None,
    plugin: Path | str | None = None,
    needs: Iterable[str] = XCB_PLUGIN_NEEDS,
) -> str | None:
    """Load Qt's X11 platform plugin the way Qt will; if the loader refuses,
    say which libraries are missing and which packages bring them."""
    load = load or ctypes.CDLL
    path = plugin if plugin is not None else xcb_plugin_path()
    if path is None:
        return None
    try:
        load(str(path))
    except OSError as exc:
        return explain_load_error(str(exc), load, needs)
    return None


def explain_load_error(error: str, load: Loader, needs: Iterable[str]) -> str:
    """The sentence for a plugin the loader refused with ``error``."""
    first = missing_library(error)
    if first is None or first.startswith("libQt6"):
        return (
            f"Qt's X11 plugin cannot load ({error}). Reinstall storeapp's environment "
            "(rm -rf .venv; make run) or, on Debian/Ubuntu, install Qt's X11 libraries: "
            f"sudo apt-get install {XCB_PACKAGES}"
        )
    missing = [first]
    for soname in needs:
        if soname == first:
            continue
        try:
            load(soname)
        except OSError as exc:
            if missing_library(str(exc)) == soname:
                missing.append(soname)
    packages = list(dict.fromkeys(debian_package(name) for name in missing))
    names = ", ".join(missing)
    verb = "is" if len(missing) == 1 else "are"
    return (
        f"Qt's X11 plugin cannot load: {names} {verb} missing. "
        f"On Debian/Ubuntu: sudo apt-get install {' '.join(packages)}"
    )


def display_problem(
    environ: Mapping[str, str] | None = None,
    load: Loader | None = None,
    platform: str | None = None,
) -> str | None:
    """Why a window cannot open here, in words (None if it can, or if only
    Qt can tell: another system, another Qt platform, Wayland)."""
    env = os.environ if environ is None else environ
    if not (platform or sys.platform).startswith("linux"):
        return None
    qpa = env.get("QT_QPA_PLATFORM", "")
    if qpa and not qpa.startswith("xcb"):
        return None
    if not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        return NO_DISPLAY
    if env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        return xcb_plugin_problem(load)
    return None
