import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Time(_message.Message):
    __slots__ = ("value", "rate")
    VALUE_FIELD_NUMBER: _ClassVar[int]
    RATE_FIELD_NUMBER: _ClassVar[int]
    value: int
    rate: int
    def __init__(self, value: _Optional[int] = ..., rate: _Optional[int] = ...) -> None: ...

class TimeRange(_message.Message):
    __slots__ = ("start", "end")
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    start: Time
    end: Time
    def __init__(self, start: _Optional[_Union[Time, _Mapping]] = ..., end: _Optional[_Union[Time, _Mapping]] = ...) -> None: ...

class Box(_message.Message):
    __slots__ = ("x0", "y0", "x1", "y1")
    X0_FIELD_NUMBER: _ClassVar[int]
    Y0_FIELD_NUMBER: _ClassVar[int]
    X1_FIELD_NUMBER: _ClassVar[int]
    Y1_FIELD_NUMBER: _ClassVar[int]
    x0: float
    y0: float
    x1: float
    y1: float
    def __init__(self, x0: _Optional[float] = ..., y0: _Optional[float] = ..., x1: _Optional[float] = ..., y1: _Optional[float] = ...) -> None: ...

class TubePoint(_message.Message):
    __slots__ = ("time", "box")
    TIME_FIELD_NUMBER: _ClassVar[int]
    BOX_FIELD_NUMBER: _ClassVar[int]
    time: Time
    box: Box
    def __init__(self, time: _Optional[_Union[Time, _Mapping]] = ..., box: _Optional[_Union[Box, _Mapping]] = ...) -> None: ...

class Word(_message.Message):
    __slots__ = ("start", "end", "text", "probability")
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    PROBABILITY_FIELD_NUMBER: _ClassVar[int]
    start: Time
    end: Time
    text: str
    probability: float
    def __init__(self, start: _Optional[_Union[Time, _Mapping]] = ..., end: _Optional[_Union[Time, _Mapping]] = ..., text: _Optional[str] = ..., probability: _Optional[float] = ...) -> None: ...

class Moment(_message.Message):
    __slots__ = ("id", "kind", "span", "label", "score", "text", "tube", "query", "words")
    ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    SPAN_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    TUBE_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    WORDS_FIELD_NUMBER: _ClassVar[int]
    id: str
    kind: str
    span: TimeRange
    label: str
    score: float
    text: str
    tube: _containers.RepeatedCompositeFieldContainer[TubePoint]
    query: str
    words: _containers.RepeatedCompositeFieldContainer[Word]
    def __init__(self, id: _Optional[str] = ..., kind: _Optional[str] = ..., span: _Optional[_Union[TimeRange, _Mapping]] = ..., label: _Optional[str] = ..., score: _Optional[float] = ..., text: _Optional[str] = ..., tube: _Optional[_Iterable[_Union[TubePoint, _Mapping]]] = ..., query: _Optional[str] = ..., words: _Optional[_Iterable[_Union[Word, _Mapping]]] = ...) -> None: ...

class MediaRef(_message.Message):
    __slots__ = ("path", "fingerprint", "probe_json", "duration")
    PATH_FIELD_NUMBER: _ClassVar[int]
    FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    PROBE_JSON_FIELD_NUMBER: _ClassVar[int]
    DURATION_FIELD_NUMBER: _ClassVar[int]
    path: str
    fingerprint: str
    probe_json: str
    duration: Time
    def __init__(self, path: _Optional[str] = ..., fingerprint: _Optional[str] = ..., probe_json: _Optional[str] = ..., duration: _Optional[_Union[Time, _Mapping]] = ...) -> None: ...

class EngineRef(_message.Message):
    __slots__ = ("name", "version", "params_json", "model_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    PARAMS_JSON_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    version: str
    params_json: str
    model_id: str
    def __init__(self, name: _Optional[str] = ..., version: _Optional[str] = ..., params_json: _Optional[str] = ..., model_id: _Optional[str] = ...) -> None: ...

class Analysis(_message.Message):
    __slots__ = ("id", "media", "engine", "moments", "created_at", "source_range", "diagnostics")
    ID_FIELD_NUMBER: _ClassVar[int]
    MEDIA_FIELD_NUMBER: _ClassVar[int]
    ENGINE_FIELD_NUMBER: _ClassVar[int]
    MOMENTS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    SOURCE_RANGE_FIELD_NUMBER: _ClassVar[int]
    DIAGNOSTICS_FIELD_NUMBER: _ClassVar[int]
    id: str
    media: MediaRef
    engine: EngineRef
    moments: _containers.RepeatedCompositeFieldContainer[Moment]
    created_at: _timestamp_pb2.Timestamp
    source_range: TimeRange
    diagnostics: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, id: _Optional[str] = ..., media: _Optional[_Union[MediaRef, _Mapping]] = ..., engine: _Optional[_Union[EngineRef, _Mapping]] = ..., moments: _Optional[_Iterable[_Union[Moment, _Mapping]]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., source_range: _Optional[_Union[TimeRange, _Mapping]] = ..., diagnostics: _Optional[_Iterable[str]] = ...) -> None: ...
