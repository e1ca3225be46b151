import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from reelmark.core.api.v1 import analysis_pb2 as _analysis_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class JobState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    JOB_STATE_UNSPECIFIED: _ClassVar[JobState]
    JOB_STATE_QUEUED: _ClassVar[JobState]
    JOB_STATE_RUNNING: _ClassVar[JobState]
    JOB_STATE_SUCCEEDED: _ClassVar[JobState]
    JOB_STATE_FAILED: _ClassVar[JobState]
    JOB_STATE_CANCELLED: _ClassVar[JobState]
JOB_STATE_UNSPECIFIED: JobState
JOB_STATE_QUEUED: JobState
JOB_STATE_RUNNING: JobState
JOB_STATE_SUCCEEDED: JobState
JOB_STATE_FAILED: JobState
JOB_STATE_CANCELLED: JobState

class AnalysisSpec(_message.Message):
    __slots__ = ("media_path", "engine", "tasks", "queries", "start", "end", "params")
    class ParamsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    MEDIA_PATH_FIELD_NUMBER: _ClassVar[int]
    ENGINE_FIELD_NUMBER: _ClassVar[int]
    TASKS_FIELD_NUMBER: _ClassVar[int]
    QUERIES_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    media_path: str
    engine: str
    tasks: _containers.RepeatedScalarFieldContainer[str]
    queries: _containers.RepeatedScalarFieldContainer[str]
    start: _analysis_pb2.Time
    end: _analysis_pb2.Time
    params: _containers.ScalarMap[str, str]
    def __init__(self, media_path: _Optional[str] = ..., engine: _Optional[str] = ..., tasks: _Optional[_Iterable[str]] = ..., queries: _Optional[_Iterable[str]] = ..., start: _Optional[_Union[_analysis_pb2.Time, _Mapping]] = ..., end: _Optional[_Union[_analysis_pb2.Time, _Mapping]] = ..., params: _Optional[_Mapping[str, str]] = ...) -> None: ...

class ListEnginesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListEnginesResponse(_message.Message):
    __slots__ = ("engines",)
    ENGINES_FIELD_NUMBER: _ClassVar[int]
    engines: _containers.RepeatedCompositeFieldContainer[EngineInfo]
    def __init__(self, engines: _Optional[_Iterable[_Union[EngineInfo, _Mapping]]] = ...) -> None: ...

class EngineInfo(_message.Message):
    __slots__ = ("name", "version", "available", "unavailable_reason", "tasks", "default_tasks", "needs_gpu", "max_duration_s", "device", "workers")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    UNAVAILABLE_REASON_FIELD_NUMBER: _ClassVar[int]
    TASKS_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_TASKS_FIELD_NUMBER: _ClassVar[int]
    NEEDS_GPU_FIELD_NUMBER: _ClassVar[int]
    MAX_DURATION_S_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    WORKERS_FIELD_NUMBER: _ClassVar[int]
    name: str
    version: str
    available: bool
    unavailable_reason: str
    tasks: _containers.RepeatedScalarFieldContainer[str]
    default_tasks: _containers.RepeatedScalarFieldContainer[str]
    needs_gpu: bool
    max_duration_s: float
    device: str
    workers: int
    def __init__(self, name: _Optional[str] = ..., version: _Optional[str] = ..., available: _Optional[bool] = ..., unavailable_reason: _Optional[str] = ..., tasks: _Optional[_Iterable[str]] = ..., default_tasks: _Optional[_Iterable[str]] = ..., needs_gpu: _Optional[bool] = ..., max_duration_s: _Optional[float] = ..., device: _Optional[str] = ..., workers: _Optional[int] = ...) -> None: ...

class StartAnalysisRequest(_message.Message):
    __slots__ = ("spec", "force")
    SPEC_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    spec: AnalysisSpec
    force: bool
    def __init__(self, spec: _Optional[_Union[AnalysisSpec, _Mapping]] = ..., force: _Optional[bool] = ...) -> None: ...

class JobError(_message.Message):
    __slots__ = ("code", "message")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    code: str
    message: str
    def __init__(self, code: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class Job(_message.Message):
    __slots__ = ("id", "state", "spec", "fraction", "stage", "eta_seconds", "analysis_id", "error", "created_at", "started_at", "finished_at", "attempts", "cached", "note")
    ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    SPEC_FIELD_NUMBER: _ClassVar[int]
    FRACTION_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    ETA_SECONDS_FIELD_NUMBER: _ClassVar[int]
    ANALYSIS_ID_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    FINISHED_AT_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    CACHED_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    id: str
    state: JobState
    spec: AnalysisSpec
    fraction: float
    stage: str
    eta_seconds: float
    analysis_id: str
    error: JobError
    created_at: _timestamp_pb2.Timestamp
    started_at: _timestamp_pb2.Timestamp
    finished_at: _timestamp_pb2.Timestamp
    attempts: int
    cached: bool
    note: str
    def __init__(self, id: _Optional[str] = ..., state: _Optional[_Union[JobState, str]] = ..., spec: _Optional[_Union[AnalysisSpec, _Mapping]] = ..., fraction: _Optional[float] = ..., stage: _Optional[str] = ..., eta_seconds: _Optional[float] = ..., analysis_id: _Optional[str] = ..., error: _Optional[_Union[JobError, _Mapping]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., finished_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., attempts: _Optional[int] = ..., cached: _Optional[bool] = ..., note: _Optional[str] = ...) -> None: ...

class WatchJobRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class JobEvent(_message.Message):
    __slots__ = ("job", "analysis")
    JOB_FIELD_NUMBER: _ClassVar[int]
    ANALYSIS_FIELD_NUMBER: _ClassVar[int]
    job: Job
    analysis: _analysis_pb2.Analysis
    def __init__(self, job: _Optional[_Union[Job, _Mapping]] = ..., analysis: _Optional[_Union[_analysis_pb2.Analysis, _Mapping]] = ...) -> None: ...

class GetJobRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class ListJobsRequest(_message.Message):
    __slots__ = ("limit", "states")
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    STATES_FIELD_NUMBER: _ClassVar[int]
    limit: int
    states: _containers.RepeatedScalarFieldContainer[JobState]
    def __init__(self, limit: _Optional[int] = ..., states: _Optional[_Iterable[_Union[JobState, str]]] = ...) -> None: ...

class ListJobsResponse(_message.Message):
    __slots__ = ("jobs",)
    JOBS_FIELD_NUMBER: _ClassVar[int]
    jobs: _containers.RepeatedCompositeFieldContainer[Job]
    def __init__(self, jobs: _Optional[_Iterable[_Union[Job, _Mapping]]] = ...) -> None: ...

class CancelJobRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class GetAnalysisRequest(_message.Message):
    __slots__ = ("analysis_id", "spec")
    ANALYSIS_ID_FIELD_NUMBER: _ClassVar[int]
    SPEC_FIELD_NUMBER: _ClassVar[int]
    analysis_id: str
    spec: AnalysisSpec
    def __init__(self, analysis_id: _Optional[str] = ..., spec: _Optional[_Union[AnalysisSpec, _Mapping]] = ...) -> None: ...

class GroundRequest(_message.Message):
    __slots__ = ("analysis_id", "queries")
    ANALYSIS_ID_FIELD_NUMBER: _ClassVar[int]
    QUERIES_FIELD_NUMBER: _ClassVar[int]
    analysis_id: str
    queries: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, analysis_id: _Optional[str] = ..., queries: _Optional[_Iterable[str]] = ...) -> None: ...

class GroundResponse(_message.Message):
    __slots__ = ("job_id", "analysis")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    ANALYSIS_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    analysis: _analysis_pb2.Analysis
    def __init__(self, job_id: _Optional[str] = ..., analysis: _Optional[_Union[_analysis_pb2.Analysis, _Mapping]] = ...) -> None: ...

class ExportRequest(_message.Message):
    __slots__ = ("analysis_id", "format", "timeline")
    ANALYSIS_ID_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    TIMELINE_FIELD_NUMBER: _ClassVar[int]
    analysis_id: str
    format: str
    timeline: str
    def __init__(self, analysis_id: _Optional[str] = ..., format: _Optional[str] = ..., timeline: _Optional[str] = ...) -> None: ...

class ExportResponse(_message.Message):
    __slots__ = ("format", "extension", "suggested_name", "content")
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    EXTENSION_FIELD_NUMBER: _ClassVar[int]
    SUGGESTED_NAME_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    format: str
    extension: str
    suggested_name: str
    content: bytes
    def __init__(self, format: _Optional[str] = ..., extension: _Optional[str] = ..., suggested_name: _Optional[str] = ..., content: _Optional[bytes] = ...) -> None: ...

class StartIndexRequest(_message.Message):
    __slots__ = ("paths", "engine", "tasks", "params", "retry_failed")
    class ParamsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    PATHS_FIELD_NUMBER: _ClassVar[int]
    ENGINE_FIELD_NUMBER: _ClassVar[int]
    TASKS_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    RETRY_FAILED_FIELD_NUMBER: _ClassVar[int]
    paths: _containers.RepeatedScalarFieldContainer[str]
    engine: str
    tasks: _containers.RepeatedScalarFieldContainer[str]
    params: _containers.ScalarMap[str, str]
    retry_failed: bool
    def __init__(self, paths: _Optional[_Iterable[str]] = ..., engine: _Optional[str] = ..., tasks: _Optional[_Iterable[str]] = ..., params: _Optional[_Mapping[str, str]] = ..., retry_failed: _Optional[bool] = ...) -> None: ...

class IndexFailure(_message.Message):
    __slots__ = ("path", "error")
    PATH_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    path: str
    error: str
    def __init__(self, path: _Optional[str] = ..., error: _Optional[str] = ...) -> None: ...

class IndexJob(_message.Message):
    __slots__ = ("id", "state", "files_total", "files_done", "media_seconds_total", "media_seconds_done", "hours_per_hour", "eta_seconds", "analysed", "already_indexed", "failures", "error")
    ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    FILES_TOTAL_FIELD_NUMBER: _ClassVar[int]
    FILES_DONE_FIELD_NUMBER: _ClassVar[int]
    MEDIA_SECONDS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    MEDIA_SECONDS_DONE_FIELD_NUMBER: _ClassVar[int]
    HOURS_PER_HOUR_FIELD_NUMBER: _ClassVar[int]
    ETA_SECONDS_FIELD_NUMBER: _ClassVar[int]
    ANALYSED_FIELD_NUMBER: _ClassVar[int]
    ALREADY_INDEXED_FIELD_NUMBER: _ClassVar[int]
    FAILURES_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    id: str
    state: JobState
    files_total: int
    files_done: int
    media_seconds_total: float
    media_seconds_done: float
    hours_per_hour: float
    eta_seconds: float
    analysed: int
    already_indexed: int
    failures: _containers.RepeatedCompositeFieldContainer[IndexFailure]
    error: str
    def __init__(self, id: _Optional[str] = ..., state: _Optional[_Union[JobState, str]] = ..., files_total: _Optional[int] = ..., files_done: _Optional[int] = ..., media_seconds_total: _Optional[float] = ..., media_seconds_done: _Optional[float] = ..., hours_per_hour: _Optional[float] = ..., eta_seconds: _Optional[float] = ..., analysed: _Optional[int] = ..., already_indexed: _Optional[int] = ..., failures: _Optional[_Iterable[_Union[IndexFailure, _Mapping]]] = ..., error: _Optional[str] = ...) -> None: ...

class GetIndexJobRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class SearchRequest(_message.Message):
    __slots__ = ("query", "kinds", "folders", "between_start", "between_end", "on_date", "region", "motion", "limit", "selects_format")
    QUERY_FIELD_NUMBER: _ClassVar[int]
    KINDS_FIELD_NUMBER: _ClassVar[int]
    FOLDERS_FIELD_NUMBER: _ClassVar[int]
    BETWEEN_START_FIELD_NUMBER: _ClassVar[int]
    BETWEEN_END_FIELD_NUMBER: _ClassVar[int]
    ON_DATE_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    MOTION_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    SELECTS_FORMAT_FIELD_NUMBER: _ClassVar[int]
    query: str
    kinds: _containers.RepeatedScalarFieldContainer[str]
    folders: _containers.RepeatedScalarFieldContainer[str]
    between_start: str
    between_end: str
    on_date: str
    region: str
    motion: str
    limit: int
    selects_format: str
    def __init__(self, query: _Optional[str] = ..., kinds: _Optional[_Iterable[str]] = ..., folders: _Optional[_Iterable[str]] = ..., between_start: _Optional[str] = ..., between_end: _Optional[str] = ..., on_date: _Optional[str] = ..., region: _Optional[str] = ..., motion: _Optional[str] = ..., limit: _Optional[int] = ..., selects_format: _Optional[str] = ...) -> None: ...

class SearchHit(_message.Message):
    __slots__ = ("path", "fingerprint", "moment_id", "kind", "start_s", "end_s", "clock", "text", "score")
    PATH_FIELD_NUMBER: _ClassVar[int]
    FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    MOMENT_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    START_S_FIELD_NUMBER: _ClassVar[int]
    END_S_FIELD_NUMBER: _ClassVar[int]
    CLOCK_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    path: str
    fingerprint: str
    moment_id: str
    kind: str
    start_s: float
    end_s: float
    clock: str
    text: str
    score: float
    def __init__(self, path: _Optional[str] = ..., fingerprint: _Optional[str] = ..., moment_id: _Optional[str] = ..., kind: _Optional[str] = ..., start_s: _Optional[float] = ..., end_s: _Optional[float] = ..., clock: _Optional[str] = ..., text: _Optional[str] = ..., score: _Optional[float] = ...) -> None: ...

class SearchResponse(_message.Message):
    __slots__ = ("hits", "selects")
    HITS_FIELD_NUMBER: _ClassVar[int]
    SELECTS_FIELD_NUMBER: _ClassVar[int]
    hits: _containers.RepeatedCompositeFieldContainer[SearchHit]
    selects: bytes
    def __init__(self, hits: _Optional[_Iterable[_Union[SearchHit, _Mapping]]] = ..., selects: _Optional[bytes] = ...) -> None: ...
