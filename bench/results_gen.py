#!/usr/bin/env python3
"""Equal test populations in every test-result format controlgate reads (issue 19's reader
throughput bench, bench/results.sh).

    bench/results_gen.py OUT_DIR [N]

Writes N tests (default 100,000) in each of JUnit XML, TRX, NUnit 3, xUnit.net v2, go test -json,
Dart JSON and Mocha JSON, shaped as the real tools write them (the shapes of the files in
../shared/conformance/publish-unit-test-result and of `go test -json`/mocha runs in
tests/all/results_json.rs): 1 % failing with a message and a stack trace, 1 % skipped, the rest
passing, and every third test carrying a control tag in its format's carrier (JUnit property,
TRX category, NUnit category, xUnit.net trait, Go subtest segment, Dart/Mocha name). Deterministic:
the same N gives the same bytes.
"""

import json
from itertools import groupby
import sys
from pathlib import Path
from xml.sax.saxutils import quoteattr, escape

CONTROLS = ["cc6-1", "cc6-6", "cc7-2", "cc8-1", "a1-2"]
PER_CLASS = 20


def tests(n):
    """(index, class, method, status, control or None, seconds)."""
    for i in range(n):
        klass = f"Acme.Billing.Module{i // PER_CLASS // 50}.InvoiceTests{i // PER_CLASS}"
        method = f"Computes_total_for_case_{i}"
        status = "failed" if i % 100 == 7 else "skipped" if i % 100 == 42 else "passed"
        control = CONTROLS[i % len(CONTROLS)] if i % 3 == 0 else None
        seconds = ((i * 7919) % 997) / 1000.0
        yield i, klass, method, status, control, seconds


def by_class(n):
    """The tests of `tests(n)` grouped by class, in order: (class, [test, ...])."""
    return ((klass, list(cases)) for klass, cases in groupby(tests(n), key=lambda t: t[1]))


MESSAGE = "Expected total 1200 but was 1150 (discount applied twice)"
TRACE = ("   at Acme.Billing.InvoiceTests.Computes_total() in /src/Billing/InvoiceTests.cs:line 42\n"
         "   at System.RuntimeMethodHandle.InvokeMethod(Object target, Void** arguments)")


def guid(i, salt):
    h = (i * 2654435761 + salt * 40503) & 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF
    s = f"{h:032x}"[-32:]
    return f"{s[:8]}-{s[8:12]}-{s[12:16]}-{s[16:20]}-{s[20:]}"


def junit(n, out):
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n')
    for klass, cases in by_class(n):
        out.write(f'  <testsuite name="{klass}" tests="{PER_CLASS}" time="1.5">\n')
        for i, _, method, status, control, secs in cases:
            out.write(f'    <testcase name="{method}" classname="{klass}" time="{secs:.3f}"')
            if status == "passed" and control is None:
                out.write("/>\n")
                continue
            out.write(">\n")
            if control:
                out.write(f'      <properties><property name="control" value="{control}"/></properties>\n')
            if status == "failed":
                out.write(f'      <failure message={quoteattr(MESSAGE)} type="AssertionError">{escape(TRACE)}</failure>\n')
            elif status == "skipped":
                out.write('      <skipped message="flaky on CI"/>\n')
            out.write("    </testcase>\n")
        out.write("  </testsuite>\n")
    out.write("</testsuites>\n")


TRX_OUTCOME = {"passed": "Passed", "failed": "Failed", "skipped": "NotExecuted"}


def trx(n, out):
    out.write('<?xml version="1.0" encoding="utf-8"?>\n'
              '<TestRun id="00000000-0000-0000-0000-000000000001" name="runner@host 2026-11-30 10:00:00" '
              'runUser="runner" xmlns="http://microsoft.com/schemas/VisualStudio/TeamTest/2010">\n'
              '  <Times creation="2026-11-30T10:00:00.0000000+00:00" start="2026-11-30T10:00:00.0000000+00:00" '
              'finish="2026-11-30T10:05:00.0000000+00:00" />\n  <Results>\n')
    listid = "8c84fa94-04c1-424b-9868-57a2d4851a1d"
    for i, klass, method, status, control, secs in tests(n):
        dur = f"00:00:{secs:010.7f}"
        out.write(f'    <UnitTestResult executionId="{guid(i, 1)}" testId="{guid(i, 2)}" '
                  f'testName="{klass}.{method}" computerName="fv-az123" duration="{dur}" '
                  f'startTime="2026-11-30T10:00:01.1234567+00:00" endTime="2026-11-30T10:00:01.2234567+00:00" '
                  f'testType="13cdc9d9-ddb5-4fa4-a97d-d965ccfc6d4b" outcome="{TRX_OUTCOME[status]}" '
                  f'testListId="{listid}" relativeResultsDirectory="{guid(i, 1)}"')
        if status == "failed":
            out.write(f'>\n      <Output>\n        <ErrorInfo>\n          <Message>{escape(MESSAGE)}</Message>\n'
                      f'          <StackTrace>{escape(TRACE)}</StackTrace>\n        </ErrorInfo>\n'
                      '      </Output>\n    </UnitTestResult>\n')
        else:
            out.write(" />\n")
    out.write("  </Results>\n  <TestDefinitions>\n")
    for i, klass, method, status, control, secs in tests(n):
        out.write(f'    <UnitTest name="{method}" storage="/src/billing/bin/debug/net8.0/acme.billing.tests.dll" '
                  f'id="{guid(i, 2)}">\n      <Execution id="{guid(i, 1)}" />\n')
        if control:
            out.write(f'      <TestCategory>\n        <TestCategoryItem TestCategory="{control}" />\n'
                      '      </TestCategory>\n')
        out.write(f'      <TestMethod codeBase="/src/billing/bin/Debug/net8.0/Acme.Billing.Tests.dll" '
                  f'adapterTypeName="executor://mstestadapter/v2" className="{klass}" name="{method}" />\n'
                  '    </UnitTest>\n')
    out.write("  </TestDefinitions>\n  <TestEntries>\n")
    for i, *_ in tests(n):
        out.write(f'    <TestEntry testId="{guid(i, 2)}" executionId="{guid(i, 1)}" testListId="{listid}" />\n')
    out.write('  </TestEntries>\n  <ResultSummary outcome="Failed">\n'
              f'    <Counters total="{n}" executed="{n}" />\n  </ResultSummary>\n</TestRun>\n')


NUNIT_RESULT = {"passed": "Passed", "failed": "Failed", "skipped": "Skipped"}


def nunit(n, out):
    out.write(f'<?xml version="1.0" encoding="utf-8" standalone="no"?>\n'
              f'<test-run id="0" runstate="Runnable" testcasecount="{n}" result="Failed" total="{n}" '
              'engine-version="3.16.3.0" clr-version="8.0.0" start-time="2026-11-30 10:00:00Z" '
              'end-time="2026-11-30 10:05:00Z" duration="300.0">\n'
              '  <test-suite type="Assembly" id="0-1000" name="Acme.Billing.Tests.dll" '
              'fullname="/src/billing/bin/Debug/net8.0/Acme.Billing.Tests.dll" runstate="Runnable" '
              'result="Failed" total="0">\n')
    for klass, cases in by_class(n):
        out.write(f'    <test-suite type="TestFixture" id="0-{cases[0][0] + 5000000}" name="{klass.rsplit(".", 1)[1]}" '
                  f'fullname="{klass}" classname="{klass}" runstate="Runnable" testcasecount="{PER_CLASS}" '
                  'result="Passed" start-time="2026-11-30 10:00:01Z" end-time="2026-11-30 10:00:02Z" '
                  'duration="1.5" total="20" passed="20" failed="0" warnings="0" inconclusive="0" '
                  'skipped="0" asserts="20">\n')
        for i, _, method, status, control, secs in cases:
            out.write(f'      <test-case id="0-{i + 1}" name="{method}" fullname="{klass}.{method}" '
                      f'methodname="{method}" classname="{klass}" runstate="Runnable" seed="{(i * 7919) % 2147483647}" '
                      f'result="{NUNIT_RESULT[status]}" start-time="2026-11-30 10:00:01Z" '
                      f'end-time="2026-11-30 10:00:01Z" duration="{secs:.6f}" asserts="1"')
            if status == "passed" and control is None:
                out.write(" />\n")
                continue
            out.write(">\n")
            if control:
                out.write(f'        <properties>\n          <property name="Category" value="{control}" />\n'
                          '        </properties>\n')
            if status == "failed":
                out.write(f'        <failure>\n          <message><![CDATA[{MESSAGE}]]></message>\n'
                          f'          <stack-trace><![CDATA[{TRACE}]]></stack-trace>\n        </failure>\n')
            elif status == "skipped":
                out.write('        <reason>\n          <message><![CDATA[flaky on CI]]></message>\n'
                          '        </reason>\n')
            out.write("      </test-case>\n")
        out.write("    </test-suite>\n")
    out.write("  </test-suite>\n</test-run>\n")


XUNIT_RESULT = {"passed": "Pass", "failed": "Fail", "skipped": "Skip"}


def xunit(n, out):
    out.write('<?xml version="1.0" encoding="utf-8"?>\n<assemblies timestamp="11/30/2026 10:00:00">\n'
              f'  <assembly name="/src/billing/bin/Debug/net8.0/Acme.Billing.Tests.dll" '
              'environment="64-bit .NET 8.0.0 [collection-per-class, parallel (2 threads)]" '
              'test-framework="xUnit.net 2.9.2.0" run-date="2026-11-30" run-time="10:00:00" '
              f'total="{n}" passed="0" failed="0" skipped="0" time="300.0" errors="0">\n'
              '    <errors />\n')
    for klass, cases in by_class(n):
        out.write(f'    <collection total="{PER_CLASS}" passed="20" failed="0" skipped="0" '
                  f'name="Test collection for {klass}" time="1.5">\n')
        for i, _, method, status, control, secs in cases:
            out.write(f'      <test name="{klass}.{method}" type="{klass}" method="{method}" '
                      f'time="{secs:.7f}" result="{XUNIT_RESULT[status]}"')
            if status == "passed" and control is None:
                out.write(" />\n")
                continue
            out.write(">\n")
            if control:
                out.write(f'        <traits>\n          <trait name="Category" value="{control}" />\n'
                          '        </traits>\n')
            if status == "failed":
                out.write('        <failure exception-type="Xunit.Sdk.EqualException">\n'
                          f'          <message><![CDATA[{MESSAGE}]]></message>\n'
                          f'          <stack-trace><![CDATA[{TRACE}]]></stack-trace>\n        </failure>\n')
            elif status == "skipped":
                out.write('        <reason><![CDATA[flaky on CI]]></reason>\n')
            out.write("      </test>\n")
        out.write("    </collection>\n")
    out.write("  </assembly>\n</assemblies>\n")


def gotest(n, out):
    def event(**kw):
        out.write(json.dumps(dict(Time="2026-11-30T10:00:01.123456789Z", **kw), separators=(",", ":")))
        out.write("\n")

    current = None
    for i, klass, method, status, control, secs in tests(n):
        pkg = "example.com/acme/billing/module" + str(i // PER_CLASS // 50)
        if pkg != current:
            if current is not None:
                event(Action="output", Package=current, Output="FAIL\n")
                event(Action="fail", Package=current, Elapsed=1.5)
            current = pkg
            event(Action="start", Package=pkg)
        name = f"TestInvoice{i // PER_CLASS}_{method}"
        if control:
            name += "/" + control.replace("-", "_")
        event(Action="run", Package=pkg, Test=name)
        event(Action="output", Package=pkg, Test=name, Output=f"=== RUN   {name}\n")
        if status == "failed":
            event(Action="output", Package=pkg, Test=name,
                  Output=f"    invoice_test.go:42: {MESSAGE}\n")
        elif status == "skipped":
            event(Action="output", Package=pkg, Test=name, Output="    invoice_test.go:12: flaky on CI\n")
        verb = {"passed": "PASS", "failed": "FAIL", "skipped": "SKIP"}[status]
        event(Action="output", Package=pkg, Test=name, Output=f"--- {verb}: {name} ({secs:.2f}s)\n")
        event(Action={"passed": "pass", "failed": "fail", "skipped": "skip"}[status], Package=pkg,
              Test=name, Elapsed=secs)
    event(Action="output", Package=current, Output="FAIL\n")
    event(Action="fail", Package=current, Elapsed=1.5)


def dart(n, out):
    def event(obj):
        out.write(json.dumps(obj, separators=(",", ":")))
        out.write("\n")

    event({"protocolVersion": "0.1.1", "runnerVersion": "1.25.8", "pid": 4242, "type": "start", "time": 0})
    next_id = 1
    t = 0
    for klass, cases in by_class(n):
        suite_id = next_id
        group_id = next_id + 1
        next_id += 2
        path = f"test/billing/invoice_{cases[0][0] // PER_CLASS}_test.dart"
        event({"suite": {"id": suite_id, "platform": "vm", "path": path}, "type": "suite", "time": t})
        event({"group": {"id": group_id, "suiteID": suite_id, "parentID": None, "name": klass,
                         "metadata": {"skip": False, "skipReason": None}, "testCount": PER_CLASS,
                         "line": 5, "column": 3, "url": "file:///src/" + path},
               "type": "group", "time": t})
        for i, _, method, status, control, secs in cases:
            test_id = next_id
            next_id += 1
            name = f"{klass} {method}" + (f" [{control}]" if control else "")
            skip = status == "skipped"
            event({"test": {"id": test_id, "name": name, "suiteID": suite_id, "groupIDs": [group_id],
                            "metadata": {"skip": skip, "skipReason": "flaky on CI" if skip else None},
                            "line": 12, "column": 5, "url": "file:///src/test/billing/invoice_test.dart"},
                   "type": "testStart", "time": t})
            if status == "failed":
                event({"testID": test_id, "error": MESSAGE, "stackTrace": TRACE, "isFailure": True,
                       "type": "error", "time": t})
            t += int(secs * 1000)
            event({"testID": test_id, "result": "failure" if status == "failed" else "success",
                   "skipped": skip, "hidden": False, "type": "testDone", "time": t})
    event({"success": False, "type": "done", "time": t})


def mocha(n, out):
    passes, failures, pending, all_tests = [], [], [], []
    for i, klass, method, status, control, secs in tests(n):
        title = method + (f" [{control}]" if control else "")
        test = {"title": title, "fullTitle": f"{klass} {title}",
                "file": f"/src/test/billing/invoice_{i // PER_CLASS}.spec.js",
                "duration": int(secs * 1000), "currentRetry": 0, "speed": "fast", "err": {}}
        if status == "failed":
            test["err"] = {"stack": f"AssertionError: {MESSAGE}\n    at Context.<anonymous> (test/billing/invoice.spec.js:42:12)",
                           "message": MESSAGE, "generatedMessage": False, "name": "AssertionError",
                           "code": "ERR_ASSERTION", "actual": "1150", "expected": "1200", "operator": "strictEqual"}
            failures.append(test)
        elif status == "skipped":
            del test["duration"]
            pending.append(test)
        else:
            passes.append(test)
        all_tests.append(test)
    doc = {"stats": {"suites": n // PER_CLASS, "tests": n, "passes": len(passes), "pending": len(pending),
                     "failures": len(failures), "start": "2026-11-30T10:00:00.000Z",
                     "end": "2026-11-30T10:05:00.000Z", "duration": 300000},
           "tests": all_tests, "pending": pending, "failures": failures, "passes": passes}
    json.dump(doc, out, indent=2)
    out.write("\n")


FORMATS = {"junit.xml": junit, "trx.trx": trx, "nunit.xml": nunit, "xunit.xml": xunit,
           "gotest.json": gotest, "dart.json": dart, "mocha.json": mocha}


def main():
    out_dir = Path(sys.argv[1])
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, write in FORMATS.items():
        with open(out_dir / name, "w", encoding="utf-8", newline="\n") as f:
            write(n, f)


if __name__ == "__main__":
    main()
