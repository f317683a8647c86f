"""Request validation with everything Connexion would rebuild per request built once per operation.

Connexion's RequestValidationMiddleware makes a URI parser, a parameter validator, a deep copy of
every parameter schema, a Draft 4 validator per parameter and a body validator for every request.
The rules are the spec's and the validator classes are Connexion's; only their construction moves
to start-up. What validation parses (the resolved path and query parameters, the JSON body) is
left in the scope for charter.dispatch, so a request is parsed once.

Two rules are stricter than Connexion's: a JSON body is read by charter.jsonbody (finite numbers,
64-bit integers, bounded nesting), and an integer or number parameter must be written as a JSON
number is (Python's int() would also take "+5", "1_000", " 1" or other scripts' digits).
"""

from __future__ import annotations

import json
import re
import typing as t

from connexion.exceptions import BadRequestProblem
from connexion.json_schema import Draft4RequestValidator
from connexion.lifecycle import ConnexionRequest
from connexion.middleware.request_validation import (
    RequestValidationAPI,
    RequestValidationMiddleware,
    RequestValidationOperation,
)
from connexion.utils import extract_content_type, is_null, is_nullable, split_content_type
from connexion.validators import JSONRequestBodyValidator, ParameterValidator
from jsonschema import Draft4Validator, ValidationError

from charter import jsonbody, runtime
from charter.bodies import read_body, replaying

# The JSON number grammar (RFC 8259, section 6), for integers and for numbers.
NUMERALS = {
    "integer": re.compile(r"-?(0|[1-9][0-9]*)"),
    "number": re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?"),
}

PARSED = "charter_parsed"  # scope["extensions"][PARSED]: {"path", "query", "media_type", "body", "raw"}


def parsed(scope) -> dict:
    """What validation left for the handler call (empty when it did not run)."""
    return scope["extensions"].get(PARSED) or {}


class _Parameters(ParameterValidator):
    """Connexion's parameter rules, with one compiled validator per parameter."""

    def __init__(self, parameters, **kwargs):
        super().__init__(parameters, **kwargs)
        self._compiled = {
            id(p): Draft4Validator(p.get("schema", p), format_checker=Draft4Validator.FORMAT_CHECKER)
            for p in parameters
        }
        self._header_keys = {id(p): p["name"].lower().encode("latin-1") for p in parameters if p.get("in") == "header"}
        self._numerals = {
            id(p): NUMERALS[kind] for p in parameters if (kind := p.get("schema", p).get("type")) in NUMERALS
        }

    def _numeral_problem(self, param, raw) -> str | None:
        """Why the text of a numeric parameter is not a JSON number (None when it is, or is absent)."""
        grammar = self._numerals.get(id(param))
        if grammar is None or not isinstance(raw, str) or grammar.fullmatch(raw):
            return None  # a path convertor may have made it a number already: [0-9]+ only
        return (
            f"{param['in']} parameter '{param['name']}' is not written as a JSON {param.get('schema', param)['type']}"
        )

    def validate_parameter(self, parameter_type, value, param, param_name=None):
        if is_nullable(param) and is_null(value):
            return None
        if value is not None:
            try:
                self._compiled[id(param)].validate(value)
            except ValidationError as exc:
                return str(exc)
            return None
        if param.get("required"):
            return f"Missing {parameter_type} parameter '{param['name']}'"
        return None

    def validate_query_parameter(self, param, request):
        if id(param) in self._numerals:
            raw = request._starlette_request.query_params.getlist(param["name"])
            problem = self._numeral_problem(param, raw[-1] if raw else None)
            if problem:
                return problem
        return self.validate_parameter("query", request.query_params.get(param["name"]), param)

    def validate_path_parameter(self, param, request):
        name = param["name"].replace("-", "_")
        if id(param) in self._numerals:
            problem = self._numeral_problem(param, request.scope.get("path_params", {}).get(name))
            if problem:
                return problem
        return self.validate_parameter("path", request.path_params.get(name), param)

    def validate_header_parameter(self, param, request):
        # The request middleware already holds the headers as a dict: no Headers object per request.
        headers = runtime.caller().headers
        if not headers:  # outside Charter's request layer
            return self.validate_parameter("header", request.headers.get(param["name"]), param)
        value = headers.get(self._header_keys[id(param)])
        return self.validate_parameter("header", value.decode("latin-1") if value is not None else None, param)

    def validate_cookie_parameter(self, param, request):
        return self.validate_parameter("cookie", request.cookies.get(param["name"]), param)


class _JsonBody(JSONRequestBodyValidator):
    """Connexion's JSON body rules with the Draft 4 validator compiled once."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._compiled = Draft4RequestValidator(self._schema, format_checker=Draft4Validator.FORMAT_CHECKER)

    @property
    def _validator(self):
        return self._compiled

    def check(self, raw: bytes, encoding: str):
        """Parse and validate a whole body; returns the parsed value (None for an empty body)."""
        if not raw:
            body = self._schema.get("default")
            if body is None and self._required:
                raise BadRequestProblem("RequestBody is required")
            if body is None:
                return None
            body = json.loads(json.dumps(body))  # a fresh copy of the spec's default
        else:
            try:
                body = jsonbody.loads(raw.decode(encoding))
            except (UnicodeDecodeError, LookupError):
                raise BadRequestProblem(detail=f"request body is not valid {encoding}") from None
            except jsonbody.Refused as exc:
                raise BadRequestProblem(detail=str(exc)) from None
        if not (body is None and self._nullable):
            self._validate(body)
        return body


class CachedValidationOperation(RequestValidationOperation):
    def __init__(self, next_app, *, operation, strict_validation=False, validator_map=None):
        super().__init__(
            next_app, operation=operation, strict_validation=strict_validation, validator_map=validator_map
        )
        self._uri_parser = operation._uri_parser_class(operation.parameters, operation.body_definition())
        self._parameters = _Parameters(
            operation.parameters,
            uri_parser=self._uri_parser,
            strict_validation=strict_validation,
            security_query_params=self.security_query_params,
        )
        self._has_parameters = bool(operation.parameters)
        self._bodies: dict[str, _JsonBody | None] = {}

    def _body_validator(self, mime_type: str) -> _JsonBody | None:
        """One validator per media type the spec accepts (a handful: the cache stays small, since
        validate_mime_type has refused any other before this runs; the charset is not part of it)."""
        if mime_type not in self._bodies:
            schema = self._operation.body_schema(mime_type)
            validator = None
            if schema and (mime_type == "application/json" or mime_type.endswith("+json")):
                validator = _JsonBody(
                    schema=schema,
                    required=self._operation.request_body.get("required", False),
                    nullable=is_nullable(self._operation.body_definition(mime_type)),
                    encoding="utf-8",  # check() is given each request's own
                    strict_validation=self.strict_validation,
                )
            if len(self._bodies) < 16:
                self._bodies[mime_type] = validator
            return validator
        return self._bodies[mime_type]

    async def __call__(self, scope, receive, send):
        found: dict[str, t.Any] = {}
        if self._has_parameters:
            request = ConnexionRequest(scope, uri_parser=self._uri_parser)
            self._parameters.validate_request(request)
            found["path"] = request.path_params
            found["query"] = request.query_params
        if self._operation.request_body:
            content_type = extract_content_type(scope["headers"])
            mime_type, encoding = split_content_type(content_type)
            if mime_type is None:
                mime_type = (self._operation.consumes or ["application/octet-stream"])[0]
            self.validate_mime_type(mime_type)
            found["media_type"] = mime_type = mime_type.lower()
            validator = self._body_validator(mime_type)
            if validator is not None:
                raw = await read_body(receive)
                receive = replaying(receive, raw)
                found["body"] = validator.check(raw, encoding or "utf-8")
                found["raw"] = raw  # the exact bytes, for a handler that checks a signature over them
        scope["extensions"][PARSED] = found
        await self.next_app(scope, receive, send)


class CachedValidationAPI(RequestValidationAPI):
    def make_operation(self, operation):
        return CachedValidationOperation(
            self.next_app,
            operation=operation,
            strict_validation=self.strict_validation,
            validator_map=self.validator_map,
        )


class CachedRequestValidationMiddleware(RequestValidationMiddleware):
    api_cls = CachedValidationAPI
