"""Restricted evaluation of the expressions written in BPMN diagrams.

Diagrams are edited in the browser by practice managers, so anything in a diagram is untrusted
input.  SpiffWorkflow's default script engine runs gateway conditions, timer expressions and
scripts with plain ``eval``/``exec`` and full builtins, which would let a diagram run arbitrary
Python on the server.  Here every expression goes through simpleeval over an explicit whitelist
of functions, after a static check of the syntax tree, and scripts are refused outright.
The bounds on time and size, and the methods values offer, are in engine.expression_limits.

Over 500 lines on purpose: the evaluator, its static (deploy-time) check and the SpiffWorkflow
script engine that uses it read best together.
"""

from __future__ import annotations

import ast
import builtins
import types
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from typing import Any

from simpleeval import (
    DEFAULT_OPERATORS,
    DISALLOW_FUNCTIONS,
    DISALLOW_METHODS,
    EvalWithCompoundTypes,
    FeatureNotAvailable,
    FunctionNotDefined,
    InvalidExpression,
    IterableTooLong,
    NameNotDefined,
    NumberTooHigh,
)
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine.python_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment
from SpiffWorkflow.exceptions import SpiffWorkflowException

from engine import timer_values
from engine.collector import collector_paused
from engine.expression_limits import (
    BOUNDED_BUILTINS,
    GUARDED_OPERATORS,
    SAFE_METHODS,
    SCALAR_METHODS,
    Budget,
    LimitExceeded,
    check_format_spec,
    check_method_call,
)

__all__ = [
    "MAX_EXPRESSION_LENGTH",
    "DATA_FUNCTIONS",
    "SAFE_BUILTINS",
    "ExpressionError",
    "RestrictedEnvironment",
    "RestrictedScriptEngine",
    "ScriptRefused",
    "check_syntax",
    "evaluate",
    "script_engine",
]

#: Builtins every expression may call.  None of them can reach objects outside the data they
#: are given; the caller's whitelist is merged over these and wins on a name clash.
SAFE_BUILTINS: Mapping[str, Callable[..., Any]] = types.MappingProxyType(
    {
        "len": len,
        "min": min,
        "max": max,
        "abs": abs,
        "round": BOUNDED_BUILTINS["round"],
        "int": int,
        "float": float,
        "str": str,
        "bool": bool,
        "sum": BOUNDED_BUILTINS["sum"],
        "any": any,
        "all": all,
        "sorted": sorted,
    }
)

#: Functions that read the expression's own data, bound to it at each evaluation: `has("x")`
#: asks whether the case holds a record or fact called x, so a block shared by two routes can
#: act on a record only one route makes (T8: the date a conference set, absent on referral).
DATA_FUNCTIONS = frozenset({"has"})


def _data_functions(names: Mapping[str, Any]) -> dict[str, Callable[..., Any]]:
    def has(name: Any) -> bool:
        """Whether the data holds `name` with a value (not missing, not None)."""
        if not isinstance(name, str):
            raise ValueError('has() takes the name of a record in quotes, e.g. has("consent")')
        return names.get(name) is not None

    return {"has": has}


#: simpleeval's EvalWithCompoundTypes always adds these constructors (and they win).
_COMPOUND_CONSTRUCTORS = frozenset({"list", "tuple", "dict", "set"})

#: Diagram conditions are one-liners; a cap keeps the parser away from pathological input.
MAX_EXPRESSION_LENGTH = 5000

# Python builtins that are not offered; calling one gets a pointed message at deploy time.
_PYTHON_BUILTINS = frozenset(name for name in dir(builtins) if not name.startswith("_"))

_CONSTRUCT_NAMES: dict[type, str] = {
    ast.Lambda: "lambda functions",
    ast.NamedExpr: "assignment (:=)",
    ast.SetComp: "set comprehensions",
    ast.Starred: "* unpacking in this position",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
    ast.MatMult: "the @ operator",
}


class ExpressionError(Exception):
    """Raised with a clear, user-facing message naming the expression and the problem.

    The message is shown to the practice manager who wrote the diagram, so it says what is
    wrong in plain words; the underlying Python exception, if any, is chained as ``__cause__``.
    """

    expression: str
    problem: str

    def __init__(self, problem: str, expression: str) -> None:
        super().__init__(f"{problem} (in expression: {expression.strip()})")
        self.problem = problem
        self.expression = expression


class ScriptRefused(ExpressionError):
    """Raised for any script task, pre/post script or service call: diagrams never run code."""

    DEFAULT = "script tasks and pre/post scripts are not allowed in cinflow diagrams"

    def __init__(self, script: str, problem: str = DEFAULT) -> None:
        Exception.__init__(self, problem)
        self.problem = problem
        self.expression = script


class _Refused(Exception):
    """Internal: a construct the evaluator will not run; turned into ExpressionError."""


class _FunctionFailed(Exception):
    """Internal: a whitelisted function raised; turned into ExpressionError."""

    def __init__(self, name: str, error: BaseException) -> None:
        super().__init__(name)
        self.name = name
        self.error = error


def _describe(node: ast.AST) -> str:
    try:
        return ast.unparse(node)
    except Exception:  # pragma: no cover - unparse of a parsed tree should not fail
        return "value"


def _attribute_problem(attr: str) -> str | None:
    if attr.startswith("_"):
        return f'".{attr}" is not allowed: names starting with "_" are Python internals'
    if attr.startswith("func_") or attr in DISALLOW_METHODS:
        return f'".{attr}" is not allowed in diagram expressions'
    return None


def _is_opaque(obj: object) -> bool:
    """Modules, classes and functions are code, not case data: no attribute access on them."""
    return isinstance(obj, (types.ModuleType, type)) or callable(obj)


class _Evaluator(EvalWithCompoundTypes):
    """simpleeval with dict-first attribute access, read-only methods and a budget.

    simpleeval tries ``getattr`` before ``obj[key]``, so a case field called ``items`` or
    ``values`` would silently resolve to the dict method; diagrams mean the field. Every node
    checks the wall clock; every operation that can grow is checked before it runs and what
    it built is counted (engine.expression_limits).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.budget = Budget()

    def _eval(self, node: ast.AST) -> Any:
        self.budget.tick()
        return super()._eval(node)

    def _eval_binop(self, node: ast.BinOp) -> Any:
        guarded = GUARDED_OPERATORS.get(type(node.op))
        if guarded is None:
            return self.budget.charge(super()._eval_binop(node))
        operation, check = guarded
        left, right = self._eval(node.left), self._eval(node.right)
        check(left, right)
        return self.budget.charge(operation(left, right))

    def _eval_comprehension(self, node: ast.AST) -> Any:
        return self.budget.charge(super()._eval_comprehension(node))

    def _eval_list(self, node: ast.List) -> Any:
        return self.budget.charge(super()._eval_list(node))

    def _eval_tuple(self, node: ast.Tuple) -> Any:
        return self.budget.charge(super()._eval_tuple(node))

    def _eval_dict(self, node: ast.Dict) -> Any:
        return self.budget.charge(super()._eval_dict(node))

    def _eval_set(self, node: ast.Set) -> Any:
        return self.budget.charge(super()._eval_set(node))

    def _eval_name(self, node: ast.Name) -> Any:
        if node.id.startswith("__"):
            raise _Refused(
                f'"{node.id}" is not allowed: names starting with "__" are Python internals'
            )
        return super()._eval_name(node)

    def _eval_attribute(self, node: ast.Attribute) -> Any:
        attr = node.attr
        problem = _attribute_problem(attr)
        if problem:
            raise _Refused(problem)
        obj = self._eval(node.value)
        owner = _describe(node.value)
        if isinstance(obj, Mapping):
            if attr in obj:
                return obj[attr]
            if isinstance(obj, dict) and attr in SAFE_METHODS[dict]:
                return getattr(obj, attr)
            raise _Refused(f'"{attr}" is not a value in "{owner}"')
        if _is_opaque(obj):
            raise _Refused(f'"{owner}" is a function or type; ".{attr}" cannot be used on it')
        kind = next((k for k in SAFE_METHODS if isinstance(obj, k)), None)
        if kind is not None and attr not in SAFE_METHODS[kind]:
            raise _Refused(f'".{attr}" cannot be used on a {kind.__name__} ("{owner}")')
        try:
            item = getattr(obj, attr)
        except AttributeError:
            raise _Refused(f'"{owner}" has no "{attr}"') from None
        if kind is None and callable(item):
            scalar = next((k for k in SCALAR_METHODS if isinstance(obj, k)), None)
            if scalar is None or attr not in SCALAR_METHODS[scalar]:
                name = type(obj).__name__
                raise _Refused(f'".{attr}" cannot be used on a {name} ("{owner}")')
        if isinstance(item, (types.ModuleType, type)) or (
            callable(item) and item in DISALLOW_FUNCTIONS
        ):
            raise _Refused(f'"{owner}.{attr}" is not allowed in diagram expressions')
        return item

    def _eval_subscript(self, node: ast.Subscript) -> Any:
        container = self._eval(node.value)
        key = self._eval(node.slice)
        if _is_opaque(container):
            raise _Refused(f'"{_describe(node.value)}" is a function or type and cannot be indexed')
        try:
            return container[key]
        except (KeyError, IndexError):
            raise _Refused(f'{key!r} is not a value in "{_describe(node.value)}"') from None

    def _eval_call(self, node: ast.Call) -> Any:
        if isinstance(node.func, ast.Name):
            name = node.func.id
            try:
                func = self.functions[name]
            except KeyError:
                raise FunctionNotDefined(name, self.expr) from None
        elif isinstance(node.func, ast.Attribute):
            name = _describe(node.func)
            func = self._eval(node.func)
        else:
            raise _Refused(f"calling {_describe(node.func)} is not allowed")
        if func in DISALLOW_FUNCTIONS:
            raise _Refused(f'"{name}" is not allowed')
        args = [self._eval(a) for a in node.args]
        kwargs = dict(self._eval(k) for k in node.keywords)
        if isinstance(node.func, ast.Attribute):
            check_method_call(getattr(func, "__self__", None), node.func.attr, tuple(args))
        try:
            return self.budget.charge(func(*args, **kwargs))
        except (ExpressionError, LimitExceeded):
            raise
        except Exception as err:
            raise _FunctionFailed(name, err) from err

    def _eval_formattedvalue(self, node: ast.FormattedValue) -> Any:
        # simpleeval builds "{:" + spec + "}" and calls str.format, so a spec containing
        # "}{0.__class__}" would reach attributes; format() never interprets field names.
        value = self._eval(node.value)
        if node.format_spec:
            spec = self._eval(node.format_spec)
            check_format_spec(str(spec))
            return format(value, spec)
        return value


def _merged_functions(
    functions: Mapping[str, Callable[..., Any]], names: Mapping[str, Any] | None = None
) -> dict[str, Callable[..., Any]]:
    merged: dict[str, Callable[..., Any]] = dict(SAFE_BUILTINS)
    merged.update(_data_functions(names or {}))
    merged.update(functions)
    return merged


_ALLOWED_NODES: frozenset[type] = frozenset(
    set(_Evaluator(functions={}, names={}).nodes)
    | set(DEFAULT_OPERATORS)
    | {ast.Expression, ast.Load, ast.Store, ast.And, ast.Or, ast.comprehension}
)


def _static_problem(tree: ast.Expression) -> str | None:
    """First forbidden construct in a parsed expression, or None; runs before any evaluation."""
    for node in ast.walk(tree):
        kind = type(node)
        if kind not in _ALLOWED_NODES:
            if kind is ast.Starred:
                continue  # checked with its parent below
            label = _CONSTRUCT_NAMES.get(kind, f"{kind.__name__} expressions")
            return f"{label} are not allowed" if label.endswith("s") else f"{label} is not allowed"
        if isinstance(node, ast.Attribute):
            problem = _attribute_problem(node.attr)
            if problem:
                return problem
        elif isinstance(node, ast.Name) and node.id.startswith("__"):
            return f'"{node.id}" is not allowed: names starting with "__" are Python internals'
        elif isinstance(node, ast.Call):
            if not isinstance(node.func, (ast.Name, ast.Attribute)):
                return f"calling {_describe(node.func)} is not allowed"
            if any(isinstance(a, ast.Starred) for a in node.args):
                return "* unpacking in function calls is not allowed"
            if any(k.arg is None for k in node.keywords):
                return "** unpacking in function calls is not allowed"
        elif isinstance(node, ast.comprehension):
            if node.is_async:
                return "async comprehensions are not allowed"
            for target in ast.walk(node.target):
                if not isinstance(target, (ast.Name, ast.Tuple, ast.List, ast.Store)):
                    return "comprehension variables must be plain names"
        elif isinstance(node, (ast.Tuple, ast.Set)) and any(
            isinstance(e, ast.Starred) for e in node.elts
        ):
            return "* unpacking in this position is not allowed"
    return None


def _called_names(tree: ast.Expression) -> frozenset[str]:
    return frozenset(
        node.func.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    )


def _syntax_message(err: SyntaxError, indent: int) -> str:
    """Position as the diagram author sees it (the parser saw the expression stripped)."""
    if not err.offset:
        where = "the end of the expression"
    elif err.lineno and err.lineno > 1:
        where = f"line {err.lineno}, column {err.offset}"
    else:
        where = f"column {err.offset + indent}"
    return f"syntax error at {where}: {err.msg}"


@lru_cache(maxsize=2048)
def _compile(expression: str) -> tuple[ast.Expression, frozenset[str]]:
    """Parse and statically vet an expression once; diagrams repeat the same few conditions."""
    if not isinstance(expression, str) or not expression.strip():
        raise ExpressionError("the expression is empty", str(expression))
    if len(expression) > MAX_EXPRESSION_LENGTH:
        raise ExpressionError(
            f"the expression is longer than {MAX_EXPRESSION_LENGTH} characters", expression[:80]
        )
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as err:
        indent = len(expression) - len(expression.lstrip(" \t"))
        raise ExpressionError(_syntax_message(err, indent), expression) from err
    except (RecursionError, MemoryError, ValueError) as err:
        raise ExpressionError("the expression is too deeply nested", expression) from err
    problem = _static_problem(tree)
    if problem:
        raise ExpressionError(problem, expression)
    return tree, _called_names(tree)


def _check_calls(
    called: Iterable[str], expression: str, functions: Mapping[str, Callable[..., Any]] | None
) -> None:
    for name in sorted(called):
        if functions is None:
            if (
                name in _PYTHON_BUILTINS
                and name not in SAFE_BUILTINS
                and (name not in _COMPOUND_CONSTRUCTORS)
            ):
                raise ExpressionError(f'"{name}" is not an allowed function', expression)
        elif name not in functions and name not in _COMPOUND_CONSTRUCTORS:
            raise ExpressionError(f'"{name}" is not an allowed function', expression)


#: Every method name an expression may call on some value (checked at deploy, without data).
ALLOWED_METHODS: frozenset[str] = frozenset().union(
    *SAFE_METHODS.values(), *SCALAR_METHODS.values()
)


def _method_problem(tree: ast.Expression) -> str | None:
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr not in ALLOWED_METHODS
        ):
            return f'".{node.func.attr}()" is not a method diagram expressions may use'
    return None


def check_syntax(
    expression: str, *, functions: Mapping[str, Callable[..., Any]] | None = None
) -> str | None:
    """Vet an expression when a diagram is deployed, without any case data.

    Returns None if it parses and uses only allowed constructs and methods, else the
    user-facing message. Pass ``functions`` (the whitelist) to also check that every called
    function exists; without it only Python builtins outside SAFE_BUILTINS are rejected.
    """
    try:
        tree, called = _compile(expression)
        whitelist = None if functions is None else _merged_functions(functions)
        _check_calls(called, expression, whitelist)
        problem = _method_problem(tree)
        if problem:
            raise ExpressionError(problem, expression)
    except ExpressionError as err:
        return str(err)
    return None


def evaluate(
    expression: str, names: Mapping[str, Any], functions: Mapping[str, Callable[..., Any]]
) -> Any:
    """Evaluate a diagram expression over a copy of task data and the function whitelist only.

    Every failure, including errors raised inside whitelisted functions, is an ExpressionError
    with the original exception chained.
    """
    tree, called = _compile(expression)
    data = dict(names)
    allowed = _merged_functions(functions, data)
    _check_calls(called, expression, allowed)
    try:
        with collector_paused:  # a collection's pause is not the expression's time
            evaluator = _Evaluator(functions=allowed, names=data)
            return evaluator.eval(expression, previously_parsed=tree.body)
    except ExpressionError:
        raise
    except (_Refused, LimitExceeded) as err:
        raise ExpressionError(str(err), expression) from err
    except _FunctionFailed as err:
        raise ExpressionError(
            f'the function "{err.name}" failed: {type(err.error).__name__}: {err.error}', expression
        ) from err.error
    except NameNotDefined as err:
        problem = f'"{err.name}" is not a value in this case\'s data'
        raise ExpressionError(problem, expression) from err
    except FunctionNotDefined as err:
        raise ExpressionError(f'"{err.func_name}" is not an allowed function', expression) from err
    except NumberTooHigh as err:
        problem = "a number in the expression is too large to calculate"
        raise ExpressionError(problem, expression) from err
    except IterableTooLong as err:
        raise ExpressionError("the result would be too long", expression) from err
    except (FeatureNotAvailable, InvalidExpression) as err:
        raise ExpressionError(str(err), expression) from err
    except RecursionError as err:
        raise ExpressionError("the expression is too deeply nested", expression) from err
    except Exception as err:
        raise ExpressionError(f"{type(err).__name__}: {err}", expression) from err


class RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    """SpiffWorkflow environment that evaluates with ``evaluate`` and never executes code."""

    def __init__(self, functions: Mapping[str, Callable[..., Any]]) -> None:
        super().__init__(environment_globals={})
        bad = [name for name, f in functions.items() if f in DISALLOW_FUNCTIONS]
        if bad:
            raise ValueError(f"functions not allowed in the whitelist: {', '.join(sorted(bad))}")
        self.functions: Mapping[str, Callable[..., Any]] = types.MappingProxyType(dict(functions))

    def evaluate(
        self,
        expression: str,
        context: Mapping[str, Any],
        external_context: Mapping[str, Any] | None = None,
    ) -> Any:
        """Task data wins over external context (data objects), as in Spiff's own environment."""
        names = {**(external_context or {}), **context}
        return evaluate(expression, names, self.functions)

    def execute(
        self,
        script: str,
        context: Mapping[str, Any],
        external_context: Mapping[str, Any] | None = None,
    ) -> bool:
        raise ScriptRefused(script)

    def call_service(self, context: Mapping[str, Any], **kwargs: Any) -> Any:
        raise ScriptRefused(
            str(kwargs.get("operation_name", "")),
            "service tasks are not allowed in cinflow diagrams",
        )


class RestrictedScriptEngine(PythonScriptEngine):
    """PythonScriptEngine that keeps our message in the WorkflowTaskException it raises.

    The stock engine wraps non-Spiff errors as "Error evaluating expression '...'" and drops
    the cause's message from str(); its call_service error path also hits a NameError.
    """

    def evaluate(self, task: Any, expression: str, external_context: Any = None) -> Any:
        """Timers may be standard ISO literals (`PT1H`); what a timer gives is checked."""
        kind = timer_values.kind_of(getattr(task.task_spec, "event_definition", None))
        try:
            value = timer_values.literal(kind, expression) if kind else None
            if value is None:
                value = self.environment.evaluate(expression, task.data, external_context)
            if kind:
                try:
                    value = timer_values.checked(kind, value)
                except ValueError as err:
                    raise ExpressionError(str(err), expression) from err
            return value
        except ExpressionError as err:
            raise WorkflowTaskException(str(err), task=task, exception=err) from err
        except SpiffWorkflowException as err:
            err.add_note(f"Error evaluating expression '{expression}'")
            raise

    def execute(self, task: Any, script: str, external_context: Any = None) -> bool:
        try:
            return self.environment.execute(script, task.data, external_context or {})
        except SpiffWorkflowException:
            raise
        except Exception as err:
            raise WorkflowTaskException(str(err), task=task, exception=err) from err

    def call_service(self, task: Any, **kwargs: Any) -> Any:
        try:
            return self.environment.call_service(task.data, **kwargs)
        except SpiffWorkflowException:
            raise
        except Exception as err:
            raise WorkflowTaskException(str(err), task=task, exception=err) from err


def script_engine(functions: Mapping[str, Callable[..., Any]]) -> PythonScriptEngine:
    """The only script engine cinflow workflows may run with (set it again after deserializing)."""
    return RestrictedScriptEngine(environment=RestrictedEnvironment(functions))
