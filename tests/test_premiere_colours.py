"""The Premiere panel's colour table is generated from reelmark.bridge.colours; fail when it is stale."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from reelmark.bridge.colours import KIND_COLOURS
from reelmark.core.results import MomentKind

PLUGIN = Path(__file__).resolve().parent.parent / "plugin" / "premiere"


def _exporter():
    spec = importlib.util.spec_from_file_location("export_colours", PLUGIN / "tools" / "export_colours.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_checked_in_colour_files_are_current() -> None:
    exporter = _exporter()
    for path, text in exporter.outputs().items():
        assert path.read_text(encoding="utf-8") == text, (
            f"{path.relative_to(PLUGIN)} is stale: run .venv/bin/python plugin/premiere/tools/export_colours.py"
        )
    assert exporter.main(["--check"]) == 0


def test_every_kind_has_the_bridge_premiere_index() -> None:
    table = json.loads((PLUGIN / "src" / "marker-colours.json").read_text(encoding="utf-8"))
    assert set(table["kinds"]) == {kind.value for kind in MomentKind}
    for kind in MomentKind:
        entry = table["kinds"][kind.value]
        assert entry["premiere_index"] == KIND_COLOURS[kind].premiere_index
        assert 0 <= entry["premiere_index"] <= 7
        assert entry["premiere_name"] == table["premiere_names"][entry["premiere_index"]]
    assert table["premiere_names"] == ["Green", "Red", "Purple", "Orange", "Yellow", "White", "Blue", "Cyan"]


def test_check_notices_a_hand_edit(tmp_path, monkeypatch) -> None:
    exporter = _exporter()
    stale = tmp_path / "marker-colours.json"
    stale.write_text(exporter.render().replace('"premiere_index": 6', '"premiere_index": 5', 1), encoding="utf-8")
    monkeypatch.setattr(exporter, "TARGET", stale)
    current_js = tmp_path / "marker-colours.js"
    current_js.write_text(exporter.render_js(), encoding="utf-8")
    monkeypatch.setattr(exporter, "TARGET_JS", current_js)
    assert exporter.main(["--check"]) == 1
