"""Autoscale formula language of Azure Batch: the subset real formulas use.

parse(text) -> Program (raises FormulaError with code AutoScalingFormulaSyntaxError);
Program.evaluate(env) -> (variables in order, results string), raising FormulaError
(code AutoScalingFormulaEvaluationError / InsufficientSampleData) on run-time errors.

Emulator time model: one metric sample is taken per autoscale evaluation and stands
for 30 seconds of service time (Batch samples every 30 s), so
`$PendingTasks.GetSamplePercent(TimeInterval_Minute * 3)` reaches 100 after six
evaluations.  `GetSample(1)` always works because a fresh sample is taken right
before each evaluation.
"""
import math
import random
import re
import time

SAMPLE_PERIOD = 30.0          # seconds of service time one sample stands for
MAX_LENGTH = 8192
MAX_STATEMENTS = 100

SYNTAX = "AutoScalingFormulaSyntaxError"
EVAL = "AutoScalingFormulaEvaluationError"
SAMPLES = "InsufficientSampleData"


class FormulaError(Exception):
    def __init__(self, code, message, values=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.values = values or []

    def as_error(self):
        return {"code": self.code, "message": self.message,
                "values": [{"name": k, "value": v} for k, v in self.values]}


class Interval:
    """A time interval (seconds)."""
    __slots__ = ("s",)

    def __init__(self, s):
        self.s = float(s)

    def __repr__(self):
        return "Interval(%r)" % self.s


class Stamp:
    __slots__ = ("t",)

    def __init__(self, t):
        self.t = float(t)


class Enum(str):
    """Bare words like requeue / taskcompletion."""


class Metric:
    """A sampled service metric; samples newest first."""

    def __init__(self, name, samples):
        self.name = name
        self.samples = list(samples)

    def latest(self):
        if not self.samples:
            raise FormulaError(SAMPLES, "%s has no samples" % self.name,
                               [("Metric", self.name)])
        return float(self.samples[0])


INTERVALS = {
    "TimeInterval_Zero": 0, "TimeInterval_100ns": 1e-7, "TimeInterval_Microsecond": 1e-6,
    "TimeInterval_Millisecond": 1e-3, "TimeInterval_Second": 1, "TimeInterval_Minute": 60,
    "TimeInterval_Hour": 3600, "TimeInterval_Day": 86400, "TimeInterval_Week": 604800,
}
ENUMS = {"requeue", "terminate", "taskcompletion", "retaineddata"}
SERVICE_WRITABLE = ["$TargetDedicatedNodes", "$TargetLowPriorityNodes", "$NodeDeallocationOption"]
ALIASES = {"$TargetDedicated": "$TargetDedicatedNodes", "$TargetLowPriority": "$TargetLowPriorityNodes"}
METRICS = {"$ActiveTasks", "$RunningTasks", "$PendingTasks", "$SucceededTasks", "$FailedTasks",
           "$CurrentDedicatedNodes", "$CurrentLowPriorityNodes", "$PreemptedNodeCount",
           "$SampleNodeCount", "$CPUPercent", "$MemoryBytes", "$DiskBytes", "$DiskReadBytes",
           "$DiskWriteBytes", "$DiskReadOps", "$DiskWriteOps", "$NetworkInBytes",
           "$NetworkOutBytes", "$WallClockSeconds"}
READONLY = METRICS | {"$UsableNodeCount"}

TOKEN = re.compile(r"""
    (?P<ws>\s+|//[^\n]*)
  | (?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<name>\$?[A-Za-z_][A-Za-z0-9_]*)
  | (?P<str>"[^"\n]*")
  | (?P<op>==|!=|<=|>=|&&|\|\||[-+*/%<>!?:(),.=;^{}])
""", re.X)


def tokenize(text):
    out, pos = [], 0
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if not m:
            raise FormulaError(SYNTAX, "Unexpected character %r at position %d" % (text[pos], pos),
                               [("Position", str(pos))])
        kind = m.lastgroup
        if kind != "ws":
            out.append((kind, m.group(kind), pos))
        pos = m.end()
    out.append(("end", "", pos))
    return out


class Parser:
    def __init__(self, text):
        self.toks = tokenize(text)
        self.i = 0

    def peek(self, k=0):
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def take(self):
        t = self.toks[self.i]
        self.i += 1
        return t

    def expect(self, value):
        t = self.take()
        if t[1] != value or t[0] not in ("op",):
            self.fail(t, "expected '%s'" % value)
        return t

    def fail(self, t, what):
        found = t[1] if t[0] != "end" else "end of formula"
        raise FormulaError(SYNTAX, "Syntax error at position %d: %s, found '%s'" % (t[2], what, found),
                           [("Position", str(t[2]))])

    def program(self):
        stmts = []
        while True:
            while self.peek()[1] == ";" and self.peek()[0] == "op":
                self.take()
            if self.peek()[0] == "end":
                break
            t = self.take()
            if t[0] != "name" or self.peek()[1] != "=" or self.peek()[0] != "op":
                self.fail(t, "a statement must be an assignment '$variable = expression'")
            self.take()
            name = ALIASES.get(t[1], t[1])
            if name in READONLY:
                raise FormulaError(SYNTAX, "%s is read-only" % t[1], [("Position", str(t[2]))])
            if name.lower() in ENUMS or name in INTERVALS:
                self.fail(t, "a variable name")
            stmts.append((name, self.ternary(), t[1]))
            nt = self.peek()
            if nt[0] != "end" and nt[1] != ";":
                self.fail(nt, "expected ';'")
        if not stmts:
            raise FormulaError(SYNTAX, "The formula has no statements", [])
        if len(stmts) > MAX_STATEMENTS:
            raise FormulaError(SYNTAX, "The formula has more than %d statements" % MAX_STATEMENTS, [])
        return stmts

    def ternary(self):
        c = self.binary(0)
        if self.peek()[1] == "?" and self.peek()[0] == "op":
            self.take()
            a = self.ternary()
            self.expect(":")
            b = self.ternary()
            return ("?", c, a, b)
        return c

    LEVELS = [("||",), ("&&",), ("==", "!="), ("<", "<=", ">", ">="), ("+", "-"), ("*", "/", "%")]

    def binary(self, level):
        if level == len(self.LEVELS):
            return self.unary()
        left = self.binary(level + 1)
        while self.peek()[0] == "op" and self.peek()[1] in self.LEVELS[level]:
            op = self.take()[1]
            left = ("bin", op, left, self.binary(level + 1))
        return left

    def unary(self):
        t = self.peek()
        if t[0] == "op" and t[1] in ("-", "!", "+"):
            self.take()
            return ("un", t[1], self.unary())
        return self.postfix()

    def postfix(self):
        node = self.primary()
        while self.peek()[1] == "." and self.peek()[0] == "op":
            self.take()
            m = self.take()
            if m[0] != "name":
                self.fail(m, "a method name")
            self.expect("(")
            node = ("method", m[1], node, self.args(), m[2])
        return node

    def args(self):
        out = []
        if self.peek()[1] == ")":
            self.take()
            return out
        while True:
            out.append(self.ternary())
            t = self.take()
            if t[1] == ")":
                return out
            if t[1] != ",":
                self.fail(t, "expected ',' or ')'")

    def primary(self):
        t = self.take()
        if t[0] == "num":
            return ("num", float(t[1]))
        if t[0] == "str":
            return ("str", t[1][1:-1])
        if t[0] == "name":
            if self.peek()[1] == "(" and self.peek()[0] == "op" and not t[1].startswith("$"):
                self.take()
                if t[1] not in FUNCTIONS:
                    raise FormulaError(SYNTAX, "Unknown function '%s' at position %d" % (t[1], t[2]),
                                       [("Position", str(t[2])), ("Function", t[1])])
                return ("call", t[1], self.args(), t[2])
            return ("var", ALIASES.get(t[1], t[1]), t[2])
        if t[0] == "op" and t[1] == "(":
            e = self.ternary()
            self.expect(")")
            return e
        if t[0] == "op" and t[1] == "{":
            items = self.args_until("}")
            return ("vec", items)
        self.fail(t, "an expression")

    def args_until(self, close):
        out = []
        if self.peek()[1] == close:
            self.take()
            return out
        while True:
            out.append(self.ternary())
            t = self.take()
            if t[1] == close:
                return out
            if t[1] != ",":
                self.fail(t, "expected ',' or '%s'" % close)


def _flatten(args):
    out = []
    for a in args:
        if isinstance(a, list):
            out.extend(a)
        elif isinstance(a, Metric):
            raise FormulaError(EVAL, "%s must be sampled with GetSample() before use in a function" % a.name,
                               [("Metric", a.name)])
        elif isinstance(a, (int, float)):
            out.append(float(a))
        else:
            raise FormulaError(EVAL, "A number or vector is required", [])
    return out


def _need(v, fn):
    if not v:
        raise FormulaError(EVAL, "%s() of an empty vector" % fn, [("Function", fn)])
    return v


def _std(v):
    m = sum(v) / len(v)
    return math.sqrt(sum((x - m) ** 2 for x in v) / len(v))


def _percentile(args):
    v, p = sorted(_flatten(args[:1])), _num(args[1])
    _need(v, "percentile")
    k = (len(v) - 1) * p / 100.0
    lo, hi = math.floor(k), math.ceil(k)
    return v[int(lo)] + (v[int(hi)] - v[int(lo)]) * (k - lo)


FUNCTIONS = {
    "avg": lambda a: (lambda v: sum(v) / len(v))(_need(_flatten(a), "avg")),
    "max": lambda a: max(_need(_flatten(a), "max")),
    "min": lambda a: min(_need(_flatten(a), "min")),
    "sum": lambda a: sum(_flatten(a)),
    "count": lambda a: float(len(_flatten(a))),
    "len": lambda a: float(len(_flatten(a))),
    "std": lambda a: _std(_need(_flatten(a), "std")),
    "norm": lambda a: math.sqrt(sum(x * x for x in _flatten(a))),
    "lg": lambda a: math.log2(_num(a[0])),
    "ln": lambda a: math.log(_num(a[0])),
    "log": lambda a: math.log10(_num(a[0])) if len(a) == 1 else math.log(_num(a[0]), _num(a[1])),
    "percentile": _percentile,
    "rand": lambda a: random.random(),
    "range": lambda a: (lambda v: max(v) - min(v))(_need(_flatten(a), "range")),
    "time": lambda a: Stamp(time.time()),
    "val": lambda a: _flatten(a[:1])[int(_num(a[1]))],
    "stop": lambda a: (_ for _ in ()).throw(_Stop()),
}


class _Stop(Exception):
    pass


def _num(v):
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, Metric):
        return v.latest()
    if isinstance(v, list) and len(v) == 1:
        return float(v[0])
    raise FormulaError(EVAL, "A number is required, found %s" % _kind(v), [])


def _kind(v):
    return {Interval: "timeinterval", Stamp: "timestamp", list: "doubleVec", Metric: "metric",
            Enum: "string", str: "string"}.get(type(v), "double")


def _fmt_num(x):
    if x != x or x in (float("inf"), float("-inf")):
        return str(x)
    if float(x).is_integer() and abs(x) < 1e15:
        return str(int(x))
    return repr(float(x))


def fmt(v):
    if isinstance(v, Interval):
        return "%s" % _fmt_interval(v.s)
    if isinstance(v, Stamp):
        t = time.gmtime(v.t)
        return time.strftime("%Y-%m-%dT%H:%M:%S", t) + ".%03dZ" % int((v.t % 1) * 1000)
    if isinstance(v, list):
        return "{" + ",".join(_fmt_num(x) for x in v) + "}"
    if isinstance(v, Metric):
        return "{" + ",".join(_fmt_num(x) for x in v.samples) + "}"
    if isinstance(v, str):
        return str(v)
    return _fmt_num(v)


def _fmt_interval(s):
    d, r = divmod(int(s), 86400)
    h, r = divmod(r, 3600)
    m, sec = divmod(r, 60)
    return ("%d." % d if d else "") + "%02d:%02d:%02d" % (h, m, sec)


class Program:
    def __init__(self, text):
        if len(text) > MAX_LENGTH:
            raise FormulaError("AutoScalingFormulaTooLong",
                               "The autoscale formula is longer than %d characters" % MAX_LENGTH, [])
        self.text = text
        self.stmts = Parser(text).program()

    def evaluate(self, env):
        """env: {"$PendingTasks": Metric, ..., "$TargetDedicatedNodes": current target, ...}.

        Returns (targets dict, results string)."""
        self.env = dict(env)
        self.now = time.time()
        vars_ = {"$TargetDedicatedNodes": float(env.get("$TargetDedicatedNodes", 0)),
                 "$TargetLowPriorityNodes": float(env.get("$TargetLowPriorityNodes", 0)),
                 "$NodeDeallocationOption": Enum("requeue")}
        order = []
        self.vars = vars_
        try:
            for name, expr, _spelled in self.stmts:
                vars_[name] = self.ev(expr)
                if name not in SERVICE_WRITABLE and name not in order:
                    order.append(name)
        except _Stop:
            pass
        except ZeroDivisionError:
            raise FormulaError(EVAL, "Division by zero", [])
        except (ValueError, OverflowError, IndexError) as e:
            raise FormulaError(EVAL, "Evaluation failed: %s" % e, [])
        tdn = _num(vars_["$TargetDedicatedNodes"]) if not isinstance(vars_["$TargetDedicatedNodes"], str) else None
        tlp = _num(vars_["$TargetLowPriorityNodes"]) if not isinstance(vars_["$TargetLowPriorityNodes"], str) else None
        for n, v in (("$TargetDedicatedNodes", tdn), ("$TargetLowPriorityNodes", tlp)):
            if v is None or v != v or v < 0 or v == float("inf"):
                raise FormulaError(EVAL, "%s must be a non-negative number, found %s" % (n, fmt(vars_[n])),
                                   [("Variable", n)])
        nda = vars_["$NodeDeallocationOption"]
        if not isinstance(nda, str) or nda.lower() not in ENUMS:
            raise FormulaError(EVAL, "$NodeDeallocationOption must be one of requeue, terminate, "
                               "taskcompletion, retaineddata", [("Variable", "$NodeDeallocationOption")])
        parts = ["$TargetDedicatedNodes=%s" % _fmt_num(math.floor(tdn)),
                 "$TargetLowPriorityNodes=%s" % _fmt_num(math.floor(tlp)),
                 "$NodeDeallocationOption=%s" % nda.lower()]
        parts += ["%s=%s" % (n, fmt(vars_[n])) for n in order]
        return ({"targetDedicatedNodes": int(math.floor(tdn)), "targetLowPriorityNodes": int(math.floor(tlp)),
                 "nodeDeallocationOption": nda.lower()}, ";".join(parts))

    # --- evaluation
    def ev(self, e):
        k = e[0]
        if k == "num":
            return e[1]
        if k == "str":
            return e[1]
        if k == "vec":
            return _flatten([self.ev(x) for x in e[1]])
        if k == "var":
            name = e[1]
            if name in self.vars:
                return self.vars[name]
            if name in INTERVALS:
                return Interval(INTERVALS[name])
            if name.lower() in ENUMS:
                return Enum(name.lower())
            if name in self.env:
                return self.env[name]
            if name in METRICS:
                return Metric(name, [0.0])
            raise FormulaError(EVAL, "Undefined variable '%s' at position %d" % (name, e[2]),
                               [("Variable", name)])
        if k == "call":
            return FUNCTIONS[e[1]]([self.ev(a) for a in e[2]])
        if k == "method":
            return self.method(e[1], self.ev(e[2]), [self.ev(a) for a in e[3]], e[4])
        if k == "?":
            return self.ev(e[2]) if _truth(self.ev(e[1])) else self.ev(e[3])
        if k == "un":
            v = self.ev(e[2])
            if e[1] == "!":
                return 0.0 if _truth(v) else 1.0
            if isinstance(v, Interval):
                return Interval(-v.s if e[1] == "-" else v.s)
            if isinstance(v, list):
                return [-x for x in v] if e[1] == "-" else v
            return -_num(v) if e[1] == "-" else _num(v)
        if k == "bin":
            op = e[1]
            if op == "&&":
                return 1.0 if _truth(self.ev(e[2])) and _truth(self.ev(e[3])) else 0.0
            if op == "||":
                return 1.0 if _truth(self.ev(e[2])) or _truth(self.ev(e[3])) else 0.0
            return binop(op, self.ev(e[2]), self.ev(e[3]))
        raise FormulaError(EVAL, "Unsupported expression", [])

    def method(self, name, obj, args, pos):
        if not isinstance(obj, Metric):
            raise FormulaError(EVAL, "Method %s() is only defined on sampled metrics" % name,
                               [("Method", name), ("Position", str(pos))])
        s = obj.samples
        if name == "Count":
            return float(len(s))
        if name == "GetSamplePeriod":
            return Interval(SAMPLE_PERIOD)
        if name == "HistoryBeginTime":
            return Stamp(self.now - SAMPLE_PERIOD * len(s))
        if name not in ("GetSample", "GetSamplePercent"):
            raise FormulaError(SYNTAX, "Unknown method '%s' at position %d" % (name, pos),
                               [("Method", name), ("Position", str(pos))])
        if not args:
            raise FormulaError(EVAL, "%s() needs an argument" % name, [("Method", name)])
        if name == "GetSample" and not isinstance(args[0], Interval):
            n = int(_num(args[0]))
            if n <= 0:
                raise FormulaError(EVAL, "GetSample(%d): the count must be positive" % n, [])
            if len(s) < n:
                raise FormulaError(SAMPLES, "%s.GetSample(%d): only %d samples are available"
                                   % (obj.name, n, len(s)), [("Metric", obj.name)])
            return [float(x) for x in s[:n]]
        # interval forms: (interval[, pct]) or (start, end[, pct])
        if len(args) >= 2 and isinstance(args[1], Interval):
            start, end = args[0], args[1]
            rest = args[2:]
        else:
            start, end = args[0], Interval(0)
            rest = args[1:]
        if not isinstance(start, Interval):
            raise FormulaError(EVAL, "%s(): a time interval is required" % name, [("Method", name)])
        lo, hi = min(start.s, end.s), max(start.s, end.s)
        expected = max(1, int(round((hi - lo) / SAMPLE_PERIOD)))
        first, last = int(lo // SAMPLE_PERIOD), int(math.ceil(hi / SAMPLE_PERIOD))
        got = [float(x) for x in s[first:last]][:expected]
        pct = min(100.0, 100.0 * len(got) / expected)
        if name == "GetSamplePercent":
            return pct
        need = _num(rest[0]) if rest else 0.0
        if not got or pct < need:
            raise FormulaError(SAMPLES, "%s.GetSample(): %d%% of the samples are available, %d%% are required"
                               % (obj.name, pct, need), [("Metric", obj.name)])
        return got


def _truth(v):
    if isinstance(v, list):
        return any(v)
    if isinstance(v, str):
        return bool(v)
    return _num(v) != 0


def binop(op, a, b):
    if isinstance(a, Interval) or isinstance(b, Interval):
        if isinstance(a, Interval) and isinstance(b, Interval):
            if op == "+":
                return Interval(a.s + b.s)
            if op == "-":
                return Interval(a.s - b.s)
            if op == "/":
                return a.s / b.s
            return _cmp(op, a.s, b.s)
        if op == "*":
            return Interval((a.s if isinstance(a, Interval) else _num(a)) *
                            (b.s if isinstance(b, Interval) else _num(b)))
        if op == "/" and isinstance(a, Interval):
            return Interval(a.s / _num(b))
        raise FormulaError(EVAL, "Operator %s is not defined for timeinterval and %s" % (op, _kind(b)), [])
    if isinstance(a, Stamp) or isinstance(b, Stamp):
        raise FormulaError(EVAL, "Operator %s is not supported for timestamps in this emulator" % op, [])
    if isinstance(a, str) or isinstance(b, str):
        if op in ("==", "!="):
            eq = str(a).lower() == str(b).lower()
            return 1.0 if eq == (op == "==") else 0.0
        raise FormulaError(EVAL, "Operator %s is not defined for strings" % op, [])
    if isinstance(a, list) or isinstance(b, list):
        if op in ("+", "-", "*", "/", "%"):
            av = a if isinstance(a, list) else None
            bv = b if isinstance(b, list) else None
            if av is not None and bv is not None:
                if len(av) != len(bv):
                    raise FormulaError(EVAL, "Vectors of different lengths", [])
                return [_arith(op, x, y) for x, y in zip(av, bv)]
            if av is not None:
                return [_arith(op, x, _num(b)) for x in av]
            return [_arith(op, _num(a), y) for y in bv]
        raise FormulaError(EVAL, "Operator %s is not defined for vectors" % op, [])
    a, b = _num(a), _num(b)
    if op in ("+", "-", "*", "/", "%"):
        return _arith(op, a, b)
    return _cmp(op, a, b)


def _arith(op, a, b):
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        return a / b
    return math.fmod(a, b)


def _cmp(op, a, b):
    r = {"==": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
    return 1.0 if r else 0.0


def parse(text):
    return Program(text)
