"""Every overridable hook restflow knows, declared once.

A :class:`Hook` carries DRF's method name, its async twin (when restflow
honours one), the family of classes it belongs to, where a user's sync
override of it runs on an async view, and which of DRF's own classes implement
it purely enough to be called on the event loop. The bridge, the batteries, the
views, the system checks and the docs' "where it runs" table all read these
objects, so the table of pure classes is complete as soon as any restflow
module is imported. See ``docs/internals.md``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from rest_framework import filters as drf_filters
from rest_framework import parsers as drf_parsers
from rest_framework import permissions as drf_permissions
from rest_framework.renderers import JSONRenderer
from rest_framework.request import ForcedAuthentication

from restflow import parsers
from restflow._fastjson import JSONRenderer as FastJSONRenderer

__all__ = [
    "DISPATCH_CALLS",
    "DISPATCH_CLASSES",
    "HOOKS",
    "Family",
    "Hook",
    "Runs",
    "markdown_table",
]


class Family(enum.Enum):
    """The kind of class a hook is a method of."""

    VIEW = "view"
    AUTHENTICATOR = "authenticator"
    PERMISSION = "permission"
    THROTTLE = "throttle"
    PAGINATOR = "paginator"
    FILTER = "filter backend"
    SERIALIZER = "serializer"
    RENDERER = "renderer"
    PARSER = "parser"
    POST_FETCH = "post-fetch"


class Runs(enum.Enum):
    """Where a user's sync override of a hook runs on an async view."""

    #: called on the event loop: keep it pure (no database, no network)
    LOOP = "event loop"
    #: called in a worker thread, sharing the request phase's one hop
    THREAD = "worker thread"


@dataclass(frozen=True, eq=False, slots=True)
class Hook:
    """One overridable method: DRF's name and, where restflow honours it, its ``a`` twin."""

    #: DRF's (sync) method name
    name: str
    #: the async twin restflow awaits when a class defines it, or None
    twin: str | None
    family: Family
    #: where a user's sync override runs on an async view
    runs: Runs = Runs.THREAD
    #: DRF's (or restflow's) classes whose sync method is pure: on the loop, no hop.
    #: Exact classes only (a subclass may do I/O).
    pure: frozenset[type] = field(default_factory=frozenset)

    def __repr__(self) -> str:
        return f"<Hook {self.family.value}.{self.name}>"


_V, _AU, _PE, _TH = Family.VIEW, Family.AUTHENTICATOR, Family.PERMISSION, Family.THROTTLE
_PA, _FI, _SE = Family.PAGINATOR, Family.FILTER, Family.SERIALIZER

# DRF's stock permissions read request.user / request.method only, set before
# permissions run; SearchFilter builds Q objects on a lazy queryset; the
# JSON renderer encodes already-serialized data; ForcedAuthentication hands
# back the user a test forced. None of them does I/O.
_PURE_PERMISSIONS = frozenset(
    {
        drf_permissions.AllowAny,
        drf_permissions.IsAuthenticated,
        drf_permissions.IsAdminUser,
        drf_permissions.IsAuthenticatedOrReadOnly,
    }
)

# -- views ----------------------------------------------------------------------------
INITIAL = Hook("initial", "ainitial", _V)
PERFORM_AUTHENTICATION = Hook("perform_authentication", "aperform_authentication", _V)
CHECK_PERMISSIONS = Hook("check_permissions", "acheck_permissions", _V)
CHECK_OBJECT_PERMISSIONS = Hook("check_object_permissions", "acheck_object_permissions", _V)
CHECK_THROTTLES = Hook("check_throttles", "acheck_throttles", _V)
HANDLE_EXCEPTION = Hook("handle_exception", "ahandle_exception", _V)
GET_QUERYSET = Hook("get_queryset", "aget_queryset", _V)
GET_OBJECT = Hook("get_object", "aget_object", _V)
FILTER_QUERYSET = Hook("filter_queryset", "afilter_queryset", _V)
PAGINATE_QUERYSET = Hook("paginate_queryset", "apaginate_queryset", _V)
GET_PAGINATED_RESPONSE = Hook("get_paginated_response", "aget_paginated_response", _V)
GET_SERIALIZER = Hook("get_serializer", "aget_serializer", _V)
GET_SERIALIZER_CLASS = Hook("get_serializer_class", "aget_serializer_class", _V)
GET_REQUEST_SERIALIZER_CLASS = Hook(
    "get_request_serializer_class", "aget_request_serializer_class", _V
)
GET_RESPONSE_SERIALIZER_CLASS = Hook(
    "get_response_serializer_class", "aget_response_serializer_class", _V
)
GET_SERIALIZER_CONTEXT = Hook("get_serializer_context", "aget_serializer_context", _V)
PERFORM_CREATE = Hook("perform_create", "aperform_create", _V)
PERFORM_UPDATE = Hook("perform_update", "aperform_update", _V)
PERFORM_DESTROY = Hook("perform_destroy", "aperform_destroy", _V)
GET_SUCCESS_HEADERS = Hook("get_success_headers", None, _V)
#: The actions keep DRF's names (routers key on them); ``async def`` is awaited.
ACTIONS = tuple(
    Hook(name, None, _V)
    for name in ("list", "create", "retrieve", "update", "partial_update", "destroy")
)
# The view methods DRF's dispatch calls around the handler. DRF's and restflow's own
# versions only read request state and run on the loop; a user's sync override may
# query the database, so the call that reaches it runs in a worker thread.
INITIALIZE_REQUEST = Hook("initialize_request", None, _V)
GET_PARSER_CONTEXT = Hook("get_parser_context", None, _V)
GET_AUTHENTICATORS = Hook("get_authenticators", None, _V)
GET_PARSERS = Hook("get_parsers", None, _V)
GET_RENDERERS = Hook("get_renderers", None, _V)
GET_CONTENT_NEGOTIATOR = Hook("get_content_negotiator", None, _V)
PERFORM_CONTENT_NEGOTIATION = Hook("perform_content_negotiation", None, _V)
GET_FORMAT_SUFFIX = Hook("get_format_suffix", None, _V)
DETERMINE_VERSION = Hook("determine_version", None, _V)
GET_PERMISSIONS = Hook("get_permissions", None, _V)
GET_THROTTLES = Hook("get_throttles", None, _V)
PERMISSION_DENIED = Hook("permission_denied", None, _V)
THROTTLED = Hook("throttled", None, _V)
GET_AUTHENTICATE_HEADER = Hook("get_authenticate_header", None, _V)
GET_EXCEPTION_HANDLER = Hook("get_exception_handler", None, _V)
GET_EXCEPTION_HANDLER_CONTEXT = Hook("get_exception_handler_context", None, _V)
FINALIZE_RESPONSE = Hook("finalize_response", None, _V)
GET_RENDERER_CONTEXT = Hook("get_renderer_context", None, _V)
DISPATCH_HOOKS = (
    INITIALIZE_REQUEST,
    GET_PARSER_CONTEXT,
    GET_AUTHENTICATORS,
    GET_PARSERS,
    GET_RENDERERS,
    GET_CONTENT_NEGOTIATOR,
    PERFORM_CONTENT_NEGOTIATION,
    GET_FORMAT_SUFFIX,
    DETERMINE_VERSION,
    GET_PERMISSIONS,
    GET_THROTTLES,
    PERMISSION_DENIED,
    THROTTLED,
    GET_AUTHENTICATE_HEADER,
    GET_EXCEPTION_HANDLER,
    GET_EXCEPTION_HANDLER_CONTEXT,
    FINALIZE_RESPONSE,
    GET_RENDERER_CONTEXT,
)

# -- authenticators --------------------------------------------------------------------
AUTHENTICATE = Hook("authenticate", "aauthenticate", _AU, pure=frozenset({ForcedAuthentication}))
AUTHENTICATE_CREDENTIALS = Hook("authenticate_credentials", "aauthenticate_credentials", _AU)
AUTHENTICATE_HEADER = Hook("authenticate_header", None, _AU)
ENFORCE_CSRF = Hook("enforce_csrf", None, _AU)
#: Building an authenticator (``get_authenticators``) calls its constructor.
AUTHENTICATOR_INIT = Hook("__init__", None, _AU)

# -- permissions -------------------------------------------------------------------------
HAS_PERMISSION = Hook("has_permission", "ahas_permission", _PE, pure=_PURE_PERMISSIONS)
HAS_OBJECT_PERMISSION = Hook(
    "has_object_permission", "ahas_object_permission", _PE, pure=_PURE_PERMISSIONS
)
#: A ``message`` property may read the database; a plain attribute is read on the loop.
PERMISSION_MESSAGE = Hook("message", None, _PE)
PERMISSION_INIT = Hook("__init__", None, _PE)

# -- throttles ---------------------------------------------------------------------------
ALLOW_REQUEST = Hook("allow_request", "aallow_request", _TH)
GET_CACHE_KEY = Hook("get_cache_key", "aget_cache_key", _TH)
THROTTLE_SUCCESS = Hook("throttle_success", "athrottle_success", _TH)
THROTTLE_FAILURE = Hook("throttle_failure", "athrottle_failure", _TH)
#: DRF's rate throttles read their rate while being built (``get_throttles``).
THROTTLE_INIT = Hook("__init__", None, _TH)
GET_RATE = Hook("get_rate", None, _TH)
PARSE_RATE = Hook("parse_rate", None, _TH)
GET_IDENT = Hook("get_ident", None, _TH)
WAIT = Hook("wait", None, _TH)

# -- paginators --------------------------------------------------------------------------
PAGINATOR_PAGINATE_QUERYSET = Hook("paginate_queryset", "apaginate_queryset", _PA)
PAGINATOR_GET_PAGINATED_RESPONSE = Hook("get_paginated_response", None, _PA)
#: What DRF's ``paginate_queryset`` calls: an override may do I/O (a worker thread).
PAGINATOR_PARTS = tuple(
    Hook(name, None, _PA)
    for name in (
        "get_page_size",
        "get_page_number",
        "get_limit",
        "get_offset",
        "get_count",
        "get_ordering",
        "decode_cursor",
        "encode_cursor",
    )
)

# -- filter backends ---------------------------------------------------------------------
BACKEND_FILTER_QUERYSET = Hook(
    "filter_queryset",
    "afilter_queryset",
    _FI,
    pure=frozenset({drf_filters.SearchFilter}),
)
#: What DRF's ``SearchFilter.filter_queryset`` calls.
SEARCH_PARTS = tuple(
    Hook(name, None, _FI)
    for name in ("get_search_fields", "get_search_terms", "construct_search", "must_call_distinct")
)
#: What DRF's ``OrderingFilter.filter_queryset`` calls.
ORDERING_PARTS = tuple(
    Hook(name, None, _FI)
    for name in (
        "get_ordering",
        "get_default_ordering",
        "get_default_valid_fields",
        "get_valid_fields",
        "remove_invalid_fields",
    )
)

# -- serializers -------------------------------------------------------------------------
#: A serializer with its own constructor may query (choices from a table).
SERIALIZER_INIT = Hook("__init__", None, _SE)
IS_VALID = Hook("is_valid", "ais_valid", _SE)
SAVE = Hook("save", "asave", _SE)
SERIALIZER_PARTS = tuple(
    Hook(name, None, _SE)
    for name in (
        "data",
        "create",
        "update",
        "validate",
        "run_validation",
        "to_internal_value",
        "to_representation",
    )
)

# -- parsers, renderers and post-fetches -------------------------------------------------
#: Decoding a JSON or form body is pure CPU: a small body is parsed on the loop
#: (``restflow._request.PARSE_ON_LOOP_MAX_BYTES``), anything else in the phase's hop.
PARSE = Hook(
    "parse",
    None,
    Family.PARSER,
    pure=frozenset({drf_parsers.JSONParser, drf_parsers.FormParser, parsers.JSONParser}),
)
RENDER = Hook("render", None, Family.RENDERER, pure=frozenset({JSONRenderer, FastJSONRenderer}))
FETCH = Hook("fetch", "afetch", Family.POST_FETCH)

#: Every hook, in the order of the docs' table.
HOOKS: tuple[Hook, ...] = (
    INITIAL,
    PERFORM_AUTHENTICATION,
    CHECK_PERMISSIONS,
    CHECK_OBJECT_PERMISSIONS,
    CHECK_THROTTLES,
    HANDLE_EXCEPTION,
    GET_QUERYSET,
    GET_OBJECT,
    FILTER_QUERYSET,
    PAGINATE_QUERYSET,
    GET_PAGINATED_RESPONSE,
    GET_SERIALIZER,
    GET_SERIALIZER_CLASS,
    GET_REQUEST_SERIALIZER_CLASS,
    GET_RESPONSE_SERIALIZER_CLASS,
    GET_SERIALIZER_CONTEXT,
    PERFORM_CREATE,
    PERFORM_UPDATE,
    PERFORM_DESTROY,
    GET_SUCCESS_HEADERS,
    *ACTIONS,
    *DISPATCH_HOOKS,
    AUTHENTICATE,
    AUTHENTICATE_CREDENTIALS,
    AUTHENTICATE_HEADER,
    ENFORCE_CSRF,
    AUTHENTICATOR_INIT,
    HAS_PERMISSION,
    HAS_OBJECT_PERMISSION,
    PERMISSION_MESSAGE,
    PERMISSION_INIT,
    ALLOW_REQUEST,
    GET_CACHE_KEY,
    THROTTLE_SUCCESS,
    THROTTLE_FAILURE,
    THROTTLE_INIT,
    GET_RATE,
    PARSE_RATE,
    GET_IDENT,
    WAIT,
    PAGINATOR_PAGINATE_QUERYSET,
    PAGINATOR_GET_PAGINATED_RESPONSE,
    *PAGINATOR_PARTS,
    BACKEND_FILTER_QUERYSET,
    *SEARCH_PARTS,
    *ORDERING_PARTS,
    SERIALIZER_INIT,
    IS_VALID,
    SAVE,
    *SERIALIZER_PARTS,
    PARSE,
    RENDER,
    FETCH,
)


#: Each call DRF's dispatch makes on a view, with the hooks its default implementation
#: reaches in turn, on the view or on the classes the view builds (``view attribute``).
#: A user's sync code in any of them moves the call to a worker thread.
DISPATCH_CALLS: dict[Hook, tuple[Hook, ...]] = {
    INITIALIZE_REQUEST: (
        INITIALIZE_REQUEST,
        GET_PARSERS,
        GET_AUTHENTICATORS,
        GET_CONTENT_NEGOTIATOR,
        GET_PARSER_CONTEXT,
    ),
    # The first half of DRF's ``initial``, before authentication.
    INITIAL: (
        GET_FORMAT_SUFFIX,
        PERFORM_CONTENT_NEGOTIATION,
        GET_CONTENT_NEGOTIATOR,
        GET_RENDERERS,
        DETERMINE_VERSION,
    ),
    GET_PERMISSIONS: (GET_PERMISSIONS,),
    GET_THROTTLES: (GET_THROTTLES,),
    PERMISSION_DENIED: (PERMISSION_DENIED,),
    THROTTLED: (THROTTLED,),
    GET_AUTHENTICATE_HEADER: (GET_AUTHENTICATE_HEADER,),
    GET_EXCEPTION_HANDLER: (GET_EXCEPTION_HANDLER,),
    GET_EXCEPTION_HANDLER_CONTEXT: (GET_EXCEPTION_HANDLER_CONTEXT,),
    FINALIZE_RESPONSE: (
        FINALIZE_RESPONSE,
        PERFORM_CONTENT_NEGOTIATION,
        GET_CONTENT_NEGOTIATOR,
        GET_RENDERERS,
        GET_RENDERER_CONTEXT,
    ),
}
#: The classes a dispatch call builds or consults (the view's attribute), and their
#: hooks that the call reaches.
DISPATCH_CLASSES: dict[Hook, tuple[str, tuple[Hook, ...]]] = {
    INITIALIZE_REQUEST: ("authentication_classes", (AUTHENTICATOR_INIT,)),
    GET_PERMISSIONS: ("permission_classes", (PERMISSION_INIT,)),
    GET_THROTTLES: ("throttle_classes", (THROTTLE_INIT, GET_RATE, PARSE_RATE)),
    GET_AUTHENTICATE_HEADER: ("authentication_classes", (AUTHENTICATE_HEADER,)),
}


def _owned(cls: type) -> str:
    owner = "DRF" if cls.__module__.startswith("rest_framework.") else "restflow"
    return f"{owner}'s `{cls.__name__}`"


def markdown_table() -> str:
    """The docs' "where each hook runs" table (``docs/guide/sync-async.md``), from ``HOOKS``."""
    lines = [
        "| Class | DRF hook | A sync override runs on | Async twin (awaited on the loop) |",
        "| --- | --- | --- | --- |",
    ]
    for hook in HOOKS:
        twin = f"`{hook.twin}`" if hook.twin else "—"
        runs = hook.runs.value
        if hook.pure:
            names = ", ".join(sorted(_owned(cls) for cls in hook.pure))
            runs += f" (on the event loop: {names})"
        lines.append(f"| {hook.family.value} | `{hook.name}` | {runs} | {twin} |")
    return "\n".join(lines) + "\n"
