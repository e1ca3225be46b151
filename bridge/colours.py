"""One colour table: what colour a moment's marker has in OTIO, in Resolve and in Premiere Pro.

Every writer and both plugins take marker colours from here, so a highlight is green everywhere. The table
follows DESIGN §9: OTIO 0.18 (Marker.2) names eleven colours; Resolve has sixteen marker colours but no orange
(Sand stands in), Premiere has eight, by index. The semantic colour is also kept in the marker's metadata, so a
format that loses colours (EDL, FCPXML) does not lose it for a reader that knows reelmark.

Premiere's FCP7 XML import reads a marker's colour from `<pproColor>`, an unsigned 32-bit 0xAABBGGRR value.
The values are the ones Premiere itself writes on XML export; green is its default and has no tag.
"""

from __future__ import annotations

from dataclasses import dataclass

from reelmark.core.results import MomentKind


@dataclass(frozen=True)
class MarkerColour:
    """One semantic colour and its name or number in each target."""

    otio: str
    """An `opentimelineio.schema.MarkerColor` name (0.18: Marker.2)."""
    resolve: str
    """A marker colour name Resolve's scripting API accepts (`AddMarker(..., color, ...)`)."""
    premiere_index: int
    """Premiere's marker colour index, 0–7: Green Red Purple Orange Yellow White Blue Cyan."""
    ppro_color: int | None
    """The `<pproColor>` value Premiere reads from FCP7 XML; None for green, Premiere's default."""


COLOURS: dict[str, MarkerColour] = {
    "GREEN": MarkerColour("GREEN", "Green", 0, None),
    "RED": MarkerColour("RED", "Red", 1, 4281740498),
    "PURPLE": MarkerColour("PURPLE", "Purple", 2, 4289825711),
    "ORANGE": MarkerColour("ORANGE", "Sand", 3, 4280578025),
    "YELLOW": MarkerColour("YELLOW", "Yellow", 4, 4281049552),
    "WHITE": MarkerColour("WHITE", "Cream", 5, 4294967295),
    "BLUE": MarkerColour("BLUE", "Blue", 6, 4294741314),
    "CYAN": MarkerColour("CYAN", "Cyan", 7, 4292277273),
    "PINK": MarkerColour("PINK", "Pink", 2, 4289825711),
    "MAGENTA": MarkerColour("MAGENTA", "Fuchsia", 2, 4289825711),
    "BLACK": MarkerColour("BLACK", "Cocoa", 5, 4294967295),
}
"""By OTIO colour name. Pink, magenta and black have no Premiere colour of their own: purple and white stand in."""

KIND_COLOURS: dict[MomentKind, MarkerColour] = {
    MomentKind.HIGHLIGHT: COLOURS["GREEN"],
    MomentKind.ACTIVITY: COLOURS["RED"],
    MomentKind.SEGMENT: COLOURS["PURPLE"],
    MomentKind.PERSON: COLOURS["ORANGE"],
    MomentKind.SPEECH: COLOURS["YELLOW"],
    MomentKind.DESCRIPTION: COLOURS["WHITE"],
    MomentKind.SHOT: COLOURS["BLUE"],
    MomentKind.TRANSITION: COLOURS["CYAN"],
    MomentKind.FACE: COLOURS["PINK"],
    MomentKind.MATCH: COLOURS["MAGENTA"],
    MomentKind.REFRAME: COLOURS["PURPLE"],
    MomentKind.SILENCE: COLOURS["BLACK"],
}


def colour_for(kind: MomentKind) -> MarkerColour:
    return KIND_COLOURS[MomentKind(kind)]


def colour_from_ppro(value: int | str | None) -> MarkerColour:
    """The colour a `<pproColor>` value stands for (absent: green, as Premiere reads it)."""
    if value is None or value == "":
        return COLOURS["GREEN"]
    number = int(value)
    for colour in COLOURS.values():
        if colour.ppro_color == number:
            return colour
    return COLOURS["GREEN"]
