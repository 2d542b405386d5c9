"""Peer for bench/speed.py: the reading EnricoMi/publish-unit-test-result-action does for each
file before it publishes anything, as the action documents and behaves: lxml parses the file
(`huge_tree`), junitparser wraps the root; the suites' counts are summed and the leaf suites
found; every test case (in nested suites too) becomes the action's record (a frozen dataclass)
of its file, line, class, name, most severe result (messages and texts of the results of that
severity joined; a case with no result and `status="disabled"` is disabled), system-out,
system-err and time. `enricomi_style.py` is the lighter stand-in of earlier tables (no output
read, no suite sums, tuples for records): both are measured. Written for this benchmark; the
action is not a package."""
import math
import sys
from collections import defaultdict
from dataclasses import dataclass
from typing import Optional

from junitparser import JUnitXml, TestCase, TestSuite
from lxml import etree

SEVERITY = ["error", "failure", "success", "skipped", "disabled"]


# The record the action keeps for each case (its `UnitTestCase`): a frozen dataclass of these
# fields. Building one costs more than building a tuple, which this peer built until 2026-12-02.
@dataclass(frozen=True)
class Case:
    result_file: str
    test_file: Optional[str]
    line: Optional[int]
    class_name: Optional[str]
    test_name: Optional[str]
    result: str
    message: Optional[str]
    content: Optional[str]
    stdout: Optional[str]
    stderr: Optional[str]
    time: Optional[float]


def cases_of(suite):
    inner = list(suite.iterchildren(TestSuite))
    return [c for s in inner for c in cases_of(s)] + list(suite.iterchildren(TestCase))


def leaves_of(suite):
    inner = list(suite.iterchildren(TestSuite))
    has_cases = any(True for _ in suite.iterchildren(TestCase))
    return [l for s in inner for l in leaves_of(s)] + ([suite] if has_cases or not inner else [])


def worst(results, status):
    by_kind = defaultdict(list)
    for r in results:
        if r:
            by_kind[r._tag].append(r)
    for kind in SEVERITY:
        if kind in by_kind:
            return kind, by_kind[kind]
    # A case with no result whose `status` says disabled counts as disabled.
    return ("disabled", []) if status == "disabled" else ("success", [])


def number(s):
    try:
        return int(s) if s else None
    except ValueError:
        return None


records, totals = [], [0, 0, 0, 0, 0.0]
parser = etree.XMLParser(huge_tree=True)
for path in sys.argv[1:]:
    root = etree.parse(path, parser=parser).getroot()
    xml = JUnitXml.fromroot(root)
    suites = list(xml) if xml._tag == "testsuites" else [xml]
    for suite in suites:
        for i, v in enumerate((suite.tests, suite.skipped, suite.failures, suite.errors, suite.time)):
            if v and not (isinstance(v, float) and math.isnan(v)):
                totals[i] += v
    leaves = [l for s in suites for l in leaves_of(s)]
    for suite in suites:
        for case in cases_of(suite):
            if case.classname is None and case.name is None:
                continue
            kind, results = worst(case.result, case._elem.get("status"))
            messages = [r.message for r in results if r and r.message]
            texts = [r.text for r in results if r is not None and r.text is not None]
            records.append(Case(
                result_file=path, test_file=case._elem.get("file"),
                line=number(case._elem.get("line")), class_name=case.classname,
                test_name=case.name, result=kind,
                message="\n".join(messages) if messages else None,
                content="\n".join(texts) if texts else None, stdout=case.system_out,
                stderr=case.system_err, time=case.time,
            ))
print(len(records), len(leaves), sum(1 for r in records if r.result != "success"))
