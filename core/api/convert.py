"""Between the results model and its wire messages, both ways, without losing a bit.

The daemon turns `Analysis` objects into messages and the client turns them back; both use this module, so a
round trip is the identity (a test checks it). Times travel as exact rationals, the probe and the engine's
resolved options as JSON text (their own exact JSON forms), and the request as `AnalysisSpec`.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from fractions import Fraction
from pathlib import Path

from google.protobuf.timestamp_pb2 import Timestamp

from reelmark.core.api.v1 import analysis_pb2 as wire
from reelmark.core.api.v1 import service_pb2 as api
from reelmark.core.engines.base import AnalysisRequest
from reelmark.core.engines.registry import DEFAULT_ENGINE, check_task_names
from reelmark.core.errors import InvalidRequestError
from reelmark.core.media.types import MediaInfo
from reelmark.core.results import Analysis, Box, EngineRef, MediaRef, Moment, MomentKind, TimeSpan, TubePoint


def time_to_wire(seconds: Fraction) -> wire.Time:
    return wire.Time(value=seconds.numerator, rate=seconds.denominator)


def time_from_wire(time: wire.Time, where: str) -> Fraction:
    """An exact time; a zero or negative rate is the caller's mistake, reported as INVALID_ARGUMENT."""
    if time.rate <= 0:
        raise InvalidRequestError(f"{where}: rate must be a positive integer (value / rate seconds), got {time.rate}")
    return Fraction(time.value, time.rate)


def timestamp(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment.astimezone(timezone.utc))
    return stamp


def span_to_wire(span: TimeSpan) -> wire.TimeRange:
    return wire.TimeRange(start=time_to_wire(span.start), end=time_to_wire(span.end))


def span_from_wire(span: wire.TimeRange, where: str) -> TimeSpan:
    return TimeSpan(time_from_wire(span.start, f"{where}.start"), time_from_wire(span.end, f"{where}.end"))


def moment_to_wire(moment: Moment) -> wire.Moment:
    message = wire.Moment(
        id=moment.id, kind=moment.kind.value, span=span_to_wire(moment.span), label=moment.label, text=moment.text,
        tube=[wire.TubePoint(time=time_to_wire(point.time), box=wire.Box(x0=point.box.x0, y0=point.box.y0,
                                                                          x1=point.box.x1, y1=point.box.y1))
              for point in moment.tube],
    )  # fmt: skip
    if moment.score is not None:
        message.score = moment.score
    if moment.query is not None:
        message.query = moment.query
    return message


def moment_from_wire(message: wire.Moment) -> Moment:
    return Moment(
        kind=MomentKind(message.kind),
        span=span_from_wire(message.span, "moment.span"),
        label=message.label,
        score=message.score if message.HasField("score") else None,
        text=message.text,
        tube=tuple(
            TubePoint(time_from_wire(point.time, "tube.time"), Box(point.box.x0, point.box.y0, point.box.x1, point.box.y1))
            for point in message.tube
        ),
        query=message.query if message.HasField("query") else None,
        id=message.id,
    )


def analysis_to_wire(analysis: Analysis, analysis_id: str) -> wire.Analysis:
    """The message for a stored analysis; `analysis_id` is the store's key for it."""
    media = wire.MediaRef(
        path=analysis.media.path, fingerprint=analysis.media.fingerprint,
        probe_json=json.dumps(analysis.media.probe.to_dict(), ensure_ascii=False),
    )  # fmt: skip
    if analysis.media.probe.duration is not None:
        media.duration.CopyFrom(time_to_wire(analysis.media.probe.duration))
    engine = wire.EngineRef(
        name=analysis.engine.name, version=analysis.engine.version,
        params_json=json.dumps(dict(analysis.engine.params), sort_keys=True, ensure_ascii=False),
    )  # fmt: skip
    if analysis.engine.model_id is not None:
        engine.model_id = analysis.engine.model_id
    message = wire.Analysis(
        id=analysis_id, media=media, engine=engine, moments=[moment_to_wire(moment) for moment in analysis.moments],
        created_at=timestamp(analysis.created_at), diagnostics=list(analysis.diagnostics),
    )  # fmt: skip
    if analysis.source_range is not None:
        message.source_range.CopyFrom(span_to_wire(analysis.source_range))
    return message


def analysis_from_wire(message: wire.Analysis) -> Analysis:
    return Analysis(
        media=MediaRef(message.media.path, message.media.fingerprint, MediaInfo.from_dict(json.loads(message.media.probe_json))),
        engine=EngineRef(
            message.engine.name, message.engine.version, json.loads(message.engine.params_json or "{}"),
            message.engine.model_id if message.engine.HasField("model_id") else None,
        ),
        moments=tuple(moment_from_wire(moment) for moment in message.moments),
        created_at=message.created_at.ToDatetime(tzinfo=timezone.utc),
        source_range=span_from_wire(message.source_range, "source_range") if message.HasField("source_range") else None,
        diagnostics=tuple(message.diagnostics),
    )


def spec_from_request(request: AnalysisRequest, engine: str) -> api.AnalysisSpec:
    """The wire form of a CLI/library request; the path is made absolute, since the daemon has its own cwd."""
    spec = api.AnalysisSpec(
        media_path=str(Path(request.media).expanduser().absolute()), engine=engine,
        tasks=[str(task) for task in request.tasks], queries=list(request.queries),
        params={name: _param_text(value) for name, value in request.params.items()},
    )  # fmt: skip
    if request.start is not None:
        spec.start.CopyFrom(time_to_wire(Fraction(request.start)))
    if request.end is not None:
        spec.end.CopyFrom(time_to_wire(Fraction(request.end)))
    return spec


def request_from_spec(spec: api.AnalysisSpec, media: Path) -> AnalysisRequest:
    """The engine's request for a spec whose path has been checked and resolved to `media` (the engine checks
    the task names against its own table; a name no engine knows is refused here)."""
    check_task_names(spec.tasks)
    return AnalysisRequest(
        media=media, tasks=tuple(spec.tasks), queries=tuple(spec.queries),
        start=time_from_wire(spec.start, "start") if spec.HasField("start") else None,
        end=time_from_wire(spec.end, "end") if spec.HasField("end") else None,
        params=dict(spec.params),
    )  # fmt: skip


def engine_name(spec: api.AnalysisSpec) -> str:
    return spec.engine or DEFAULT_ENGINE


def _param_text(value: object) -> str:
    """Options travel as the CLI's NAME=VALUE text; lists become comma-separated, as `--param` takes them."""
    if isinstance(value, (list, tuple)):
        return ",".join(str(item) for item in value)
    return str(value)
