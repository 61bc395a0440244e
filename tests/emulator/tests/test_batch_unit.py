"""Unit tests of the Batch data plane: Shared Key vectors, the autoscale formula evaluator,
OData filters and durations."""
import json
import os
import sys
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

from batch import auth, formula  # noqa: E402
from batch.util import compile_filter, parse_duration, FilterError  # noqa: E402
import batchharness  # noqa: E402

VECTORS = os.path.join(batchharness.SHARED, "vectors", "signing.json")


class SharedKeyVectors(unittest.TestCase):
    def vectors(self):
        if not os.path.exists(VECTORS):
            self.skipTest("notice: ../shared/vectors/signing.json absent; Shared Key vectors not checked")
        with open(VECTORS) as f:
            d = json.load(f)
        out = d.get("batch_sharedkey", []) + d.get("batch_sharedkey_pipeline", [])
        self.assertTrue(out)
        return out

    def test_vectors_verify(self):
        for v in self.vectors():
            with self.subTest(v["name"]):
                inp, exp = v["input"], v["expected"]
                u = urllib.parse.urlsplit(inp["url"])
                text = auth.string_to_sign(inp["method"], u.path, u.query, inp["headers"], inp["account"])
                self.assertEqual(text, exp["string_to_sign"])
                self.assertEqual(auth.sign(inp["key"], text), exp["signature"])
                acct, sig = auth.parse_authorization(exp["authorization"])
                self.assertTrue(auth.verify(inp["method"], u.path, u.query, inp["headers"], acct,
                                            ["bm90IHRoZSBrZXk=", inp["key"]], sig))
                # a changed header breaks it
                h = dict(inp["headers"])
                h["ocp-date"] = "Tue, 02 Jan 2024 00:00:00 GMT"
                self.assertFalse(auth.verify(inp["method"], u.path, u.query, h, acct, [inp["key"]], sig))

    def test_query_names_as_sent_values_decoded(self):
        t = auth.string_to_sign("GET", "/jobs/j%201/tasks", "api-version=2025-06-01&%24filter=state%20eq%20%27active%27"
                                "&maxresults=10&empty=", {"ocp-date": "x", "Ocp-Range": "bytes=0-1"}, "a")
        self.assertEqual(t, "GET\n" + "\n" * 11 + "ocp-date:x\nocp-range:bytes=0-1\n/a/jobs/j%201/tasks"
                            "\n$filter:state eq 'active'\napi-version:2025-06-01\nmaxresults:10")

    def test_date_window(self):
        self.assertIsNone(auth.check_date({"ocp-date": "Mon, 01 Jan 2024 00:00:00 GMT"}, now=1704067200 + 60))
        self.assertIn("15 minutes", auth.check_date({"ocp-date": "Mon, 01 Jan 2024 00:00:00 GMT"},
                                                    now=1704067200 + 3600))
        self.assertIsNotNone(auth.check_date({}))


TUTORIAL = """// pending = active + running tasks
$pct = $PendingTasks.GetSamplePercent(TimeInterval_Minute * 3);
$pending = $pct < 70 ? max(0, $PendingTasks.GetSample(1))
                      : max($PendingTasks.GetSample(1), avg($PendingTasks.GetSample(TimeInterval_Minute * 3)));
$TargetDedicatedNodes = min(2, $pending);
$TargetLowPriorityNodes = 0;
$NodeDeallocationOption = taskcompletion;"""


def M(name, *samples):
    return formula.Metric(name, list(samples))


class Formula(unittest.TestCase):
    def run_f(self, text, **metrics):
        env = {"$" + k: (M("$" + k, *v) if isinstance(v, (list, tuple)) else v) for k, v in metrics.items()}
        return formula.parse(text).evaluate(env)

    def test_tutorial_formula(self):
        t, r = self.run_f(TUTORIAL, PendingTasks=[3])
        self.assertEqual(t, {"targetDedicatedNodes": 2, "targetLowPriorityNodes": 0,
                             "nodeDeallocationOption": "taskcompletion"})
        self.assertTrue(r.startswith("$TargetDedicatedNodes=2;$TargetLowPriorityNodes=0;"
                                     "$NodeDeallocationOption=taskcompletion;$pct="), r)
        t, r = self.run_f(TUTORIAL, PendingTasks=[0, 0, 0, 0, 0, 0, 0])
        self.assertEqual(t["targetDedicatedNodes"], 0)
        self.assertIn("$pct=100", r)
        t, _ = self.run_f(TUTORIAL, PendingTasks=[1, 1, 1, 1, 1, 1])
        self.assertEqual(t["targetDedicatedNodes"], 1)

    def test_docs_examples(self):
        text = """$samples = $ActiveTasks.GetSamplePercent(TimeInterval_Minute * 15);
$tasks = $samples < 70 ? max(0, $ActiveTasks.GetSample(1)) : max( $ActiveTasks.GetSample(1), avg($ActiveTasks.GetSample(TimeInterval_Minute * 15)));
$targetVMs = $tasks > 0 ? $tasks : max(0, $TargetDedicatedNodes / 2);
cappedPoolSize = 3;
$TargetDedicatedNodes = max(0, min($targetVMs, cappedPoolSize));
$NodeDeallocationOption = taskcompletion;"""
        t, r = self.run_f(text, ActiveTasks=[5], TargetDedicatedNodes=4)
        self.assertEqual(t["targetDedicatedNodes"], 3)
        self.assertIn("cappedPoolSize=3", r)
        t, _ = self.run_f(text, ActiveTasks=[0], TargetDedicatedNodes=4)
        self.assertEqual(t["targetDedicatedNodes"], 2)

    def test_operators_and_functions(self):
        cases = {
            "$TargetDedicatedNodes = 1 + 2 * 3 - 4 / 2;": 5,
            "$TargetDedicatedNodes = (1 < 2) && (2 >= 2) || 0;": 1,
            "$TargetDedicatedNodes = 3 == 3 ? (2 != 2 ? 9 : 4) : 7;": 4,
            "$TargetDedicatedNodes = sum($RunningTasks.GetSample(3)) + count($RunningTasks.GetSample(2));": 8,
            "$TargetDedicatedNodes = len($RunningTasks.GetSample(2)) + min(4, 7, 5) - max({1, 2});": 4,
            "$x = 10; $y = $x % 4; $TargetDedicatedNodes = $y + !0;": 3,
            "$TargetDedicated = $CurrentDedicatedNodes + 1;": 3,
            "$TargetDedicatedNodes = TimeInterval_Minute * 2 > TimeInterval_Second * 100 ? 1 : 0;": 1,
            "$TargetDedicatedNodes = $RunningTasks.GetSample(TimeInterval_Minute, 50)[0] + 0;": None,
        }
        for text, want in cases.items():
            with self.subTest(text):
                if want is None:
                    with self.assertRaises(formula.FormulaError) as cm:
                        self.run_f(text, RunningTasks=[2, 3, 1], CurrentDedicatedNodes=[2])
                    self.assertEqual(cm.exception.code, formula.SYNTAX)
                    continue
                t, _ = self.run_f(text, RunningTasks=[2, 3, 1], CurrentDedicatedNodes=[2])
                self.assertEqual(t["targetDedicatedNodes"], want)

    def test_sample_shortage(self):
        with self.assertRaises(formula.FormulaError) as cm:
            self.run_f("$TargetDedicatedNodes = avg($ActiveTasks.GetSample(TimeInterval_Minute * 10, 80));",
                       ActiveTasks=[1, 2])
        self.assertEqual(cm.exception.code, formula.SAMPLES)
        t, _ = self.run_f("$TargetDedicatedNodes = avg($ActiveTasks.GetSample(TimeInterval_Minute * 1, 80));",
                          ActiveTasks=[1, 3, 9])
        self.assertEqual(t["targetDedicatedNodes"], 2)
        with self.assertRaises(formula.FormulaError):
            self.run_f("$TargetDedicatedNodes = $ActiveTasks.GetSample(5);", ActiveTasks=[1])

    def test_errors(self):
        bad = {"$TargetDedicatedNodes = ;": formula.SYNTAX,
               "$TargetDedicatedNodes = 1": None,          # a trailing ';' is optional
               "$TargetDedicatedNodes = foo(1);": formula.SYNTAX,
               "TargetDedicatedNodes 1;": formula.SYNTAX,
               "$ActiveTasks = 1;": formula.SYNTAX,
               "$TargetDedicatedNodes = 1 @ 2;": formula.SYNTAX,
               "$TargetDedicatedNodes = $ActiveTasks.Frobnicate();": formula.SYNTAX,
               "$TargetDedicatedNodes = $nope + 1;": formula.EVAL,
               "$TargetDedicatedNodes = -3;": formula.EVAL,
               "$TargetDedicatedNodes = 1 / 0;": formula.EVAL,
               "$NodeDeallocationOption = 3;": formula.EVAL,
               "": formula.SYNTAX}
        for text, code in bad.items():
            with self.subTest(text):
                if code is None:
                    self.run_f(text, ActiveTasks=[1])
                    continue
                with self.assertRaises(formula.FormulaError) as cm:
                    self.run_f(text, ActiveTasks=[1])
                self.assertEqual(cm.exception.code, code)
                self.assertTrue(cm.exception.message)
        with self.assertRaises(formula.FormulaError) as cm:
            formula.parse("$x = 1;" * 2000)
        self.assertEqual(cm.exception.code, "AutoScalingFormulaTooLong")

    def test_error_shape(self):
        try:
            formula.parse("$TargetDedicatedNodes = (1;")
        except formula.FormulaError as e:
            err = e.as_error()
            self.assertEqual(set(err), {"code", "message", "values"})
            self.assertEqual(err["values"][0]["name"], "Position")


class ODataAndDurations(unittest.TestCase):
    def test_filter(self):
        items = [{"id": "a1", "state": "active", "executionInfo": {"exitCode": 0}},
                 {"id": "b2", "state": "completed", "executionInfo": {"exitCode": 3}},
                 {"id": "c3", "state": "completed", "executionInfo": {"exitCode": 0}}]

        def ids(f):
            return [x["id"] for x in items if compile_filter(f)(x)]
        self.assertEqual(ids("state eq 'completed'"), ["b2", "c3"])
        self.assertEqual(ids("state ne 'completed'"), ["a1"])
        self.assertEqual(ids("(executionInfo/exitCode lt 0) or (executionInfo/exitCode gt 0)"), ["b2"])
        self.assertEqual(ids("startswith(id,'c') and state eq 'completed'"), ["c3"])
        self.assertEqual(ids("id eq 'A1'"), ["a1"])
        self.assertEqual(ids("not (state eq 'active')"), ["b2", "c3"])
        for bad in ("state eq", "state === 'x'", "state eq 'x' and", "(state eq 'x'"):
            with self.assertRaises(FilterError):
                compile_filter(bad)

    def test_durations(self):
        self.assertEqual(parse_duration("PT5M"), 300)
        self.assertEqual(parse_duration("P1DT2H"), 93600)
        self.assertAlmostEqual(parse_duration("P10675199DT2H48M5.4775807S"), 922337203685.4775807, places=2)
        self.assertIsNone(parse_duration("5 minutes"))
        self.assertIsNone(parse_duration("PT"))


if __name__ == "__main__":
    unittest.main()
