"""`reelmark install resolve`: put "Analyze clip" into DaVinci Resolve's Workspace › Scripts menu, or take it out.

Resolve lists the scripts in `Fusion/Scripts/Utility` under its per-user folder (DESIGN §10). The installer writes
two files there: the launcher `reelmark Analyze Clip.py` (the menu entry) and `reelmark-resolve.json`, the install
record the script reads: where this reelmark is (its `reelmark` command, to start the daemon; the plugin package,
loaded by path since Resolve's Python is not this one), the daemon's address, the tasks to run, and the marker
colour table from `reelmark.bridge.colours`. Uninstall removes exactly those two files.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from reelmark.core import __version__
from reelmark.core.errors import InvalidRequestError
from reelmark.core.files import write_atomically

LAUNCHER_NAME = "reelmark Analyze Clip.py"
RECORD_NAME = "reelmark-resolve.json"
MENU_FOLDER = "Utility"
DEFAULT_TASKS = ("shots", "people", "highlights")
LAUNCHER = '''"""reelmark: Analyze clip. Installed by `reelmark install resolve` ({version}); `reelmark uninstall resolve` removes it."""
import importlib.util
import os
import sys

RECORD = {record!r}
PLUGIN = {plugin!r}


def _load():
    spec = importlib.util.spec_from_file_location(
        "reelmark_resolve_plugin", os.path.join(PLUGIN, "__init__.py"), submodule_search_locations=[PLUGIN]
    )
    package = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = package
    spec.loader.exec_module(package)
    return importlib.import_module(spec.name + ".analyze_clip")


if sys.version_info < (3, 7):
    print("reelmark: Resolve runs this script with Python %d.%d; reelmark needs Python 3.7 or newer (64-bit): "
          "install it, then restart Resolve" % sys.version_info[:2])
elif not os.path.isdir(PLUGIN):
    print("reelmark: the plugin is gone from " + PLUGIN + "; run `reelmark install resolve` again")
else:
    try:
        _app = globals().get("resolve") or (bmd.scriptapp("Resolve") if "bmd" in globals() else None)  # noqa: F821
        _load().main(_app, RECORD)
    except Exception as _error:  # the plugin could not even start: one line, never a traceback
        print("reelmark could not start (%s: %s); run `reelmark install resolve` again" % (type(_error).__name__, _error))
'''


MACOS_SYSTEM_PYTHON = "/usr/local/bin/python3"


def python_notes(platform: str = sys.platform, environ: dict[str, str] | None = None,
                 exists: Callable[[str], bool] = os.path.exists) -> list[str]:
    """What to set so Resolve finds a Python 3 for the menu entry; empty when nothing is known to be missing.

    On macOS Resolve looks for Python 3 only through `PYTHON3HOME` or at /usr/local/bin/python3; without either
    the menu entry silently never appears (issue #14, from the live-tested install notes of davinci-resolve-mcp).
    Elsewhere nothing is checked: Resolve finds Python through the usual installation.
    """
    if platform != "darwin":
        return []
    home = dict(os.environ if environ is None else environ).get("PYTHON3HOME")
    if home and exists(home):
        return []
    if home:
        return [f"warning: PYTHON3HOME is {home}, which does not exist; point it at a Python 3.7+ installation "
                "(launchctl setenv PYTHON3HOME /path/to/python3-home), then restart Resolve"]  # fmt: skip
    if exists(MACOS_SYSTEM_PYTHON):
        return []
    return [f"warning: Resolve finds Python only through PYTHON3HOME or {MACOS_SYSTEM_PYTHON}, and neither is set, so "
            "the menu entry will not appear: install Python 3.7+ from python.org (it provides /usr/local/bin/python3), "
            "or run `launchctl setenv PYTHON3HOME /path/to/python3-home`, then restart Resolve"]  # fmt: skip


def scripts_folder(platform: str = sys.platform, environ: dict[str, str] | None = None, home: Path | None = None) -> Path:
    """Resolve's per-user `Fusion/Scripts` folder on this OS."""
    environ = dict(os.environ if environ is None else environ)
    home = home or Path.home()
    if platform == "darwin":
        return home / "Library/Application Support/Blackmagic Design/DaVinci Resolve/Fusion/Scripts"
    if platform.startswith("win"):
        appdata = environ.get("APPDATA")
        if not appdata:
            raise InvalidRequestError("APPDATA is not set; pass --scripts-dir with Resolve's Fusion\\Scripts folder")
        return Path(appdata) / "Blackmagic Design" / "DaVinci Resolve" / "Support" / "Fusion" / "Scripts"
    return home / ".local/share/DaVinciResolve/Fusion/Scripts"


@dataclass(frozen=True)
class Planned:
    path: Path
    content: str | None
    """None: remove the file."""

    def describe(self) -> str:
        return f"write {self.path}" if self.content is not None else f"remove {self.path}"


def plugin_folder() -> Path:
    from reelmark.plugin import resolve as plugin  # noqa: PLC0415 - a package of files for Resolve, read only here

    return Path(plugin.__file__).resolve().parent


def reelmark_command() -> str | None:
    beside = Path(sys.executable).with_name("reelmark.exe" if os.name == "nt" else "reelmark")
    return str(beside) if beside.exists() else shutil.which("reelmark")


def install_plan(folder: Path, address: str, tasks: tuple[str, ...], import_highlights: bool) -> list[Planned]:
    from reelmark.bridge.colours import KIND_COLOURS  # noqa: PLC0415 - OTIO loads only when installing

    menu = folder / MENU_FOLDER
    record = {
        "installed_by": f"reelmark {__version__}",
        "installed_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "reelmark": reelmark_command(),
        "address": address,
        "tasks": list(tasks),
        "import_highlights": import_highlights,
        "colours": {kind.value: colour.resolve for kind, colour in KIND_COLOURS.items()},
    }
    launcher = LAUNCHER.format(version=__version__, record=str(menu / RECORD_NAME), plugin=str(plugin_folder()))
    return [Planned(menu / RECORD_NAME, json.dumps(record, indent=2) + "\n"), Planned(menu / LAUNCHER_NAME, launcher)]


def uninstall_plan(folder: Path) -> list[Planned]:
    menu = folder / MENU_FOLDER
    return [Planned(menu / name, None) for name in (LAUNCHER_NAME, RECORD_NAME) if (menu / name).exists()]


def carry_out(plan: list[Planned]) -> None:
    for step in plan:
        if step.content is None:
            step.path.unlink()
        else:
            write_atomically(step.path, step.content)
