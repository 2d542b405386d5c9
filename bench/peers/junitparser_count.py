"""Peer for bench/speed.py: junitparser (PyPI) reading a JUnit file the way its README shows,
every case's result looked at, totals printed."""
import sys

from junitparser import Error, Failure, JUnitXml, Skipped

totals = {"tests": 0, "failed": 0, "errored": 0, "skipped": 0}
for path in sys.argv[1:]:
    xml = JUnitXml.fromfile(path)
    suites = [xml] if xml._tag == "testsuite" else xml
    for suite in suites:
        for case in suite:
            totals["tests"] += 1
            kinds = {type(r) for r in case.result}
            if Error in kinds:
                totals["errored"] += 1
            elif Failure in kinds:
                totals["failed"] += 1
            elif Skipped in kinds:
                totals["skipped"] += 1
print(totals)
