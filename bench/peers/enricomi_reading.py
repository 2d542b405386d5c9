"""Peer for bench/speed.py: the reading EnricoMi/publish-unit-test-result-action does for each
file before it publishes anything, as the action documents and behaves: lxml parses the file
(`huge_tree`), junitparser wraps the root; the suites' counts are summed and the leaf suites
found; every test case (in nested suites too) becomes a record of its file, line, class, name,
most severe result (messages and texts of the results of that severity joined), system-out,
system-err and time. `enricomi_style.py` is the lighter stand-in of earlier tables (no output
read, no suite sums): both are measured. Written for this benchmark; the action is not a
package."""
import math
import sys
from collections import defaultdict

from junitparser import JUnitXml, TestCase, TestSuite
from lxml import etree

SEVERITY = ["error", "failure", "success", "skipped", "disabled"]


def cases_of(suite):
    inner = list(suite.iterchildren(TestSuite))
    return [c for s in inner for c in cases_of(s)] + list(suite.iterchildren(TestCase))


def leaves_of(suite):
    inner = list(suite.iterchildren(TestSuite))
    has_cases = any(True for _ in suite.iterchildren(TestCase))
    return [l for s in inner for l in leaves_of(s)] + ([suite] if has_cases or not inner else [])


def worst(results):
    by_kind = defaultdict(list)
    for r in results:
        if r:
            by_kind[r._tag].append(r)
    for kind in SEVERITY:
        if kind in by_kind:
            return kind, by_kind[kind]
    return "success", []


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
            kind, results = worst(case.result)
            messages = [r.message for r in results if r and r.message]
            texts = [r.text for r in results if r is not None and r.text is not None]
            records.append((
                path, case._elem.get("file"), number(case._elem.get("line")), case.classname,
                case.name, kind, "\n".join(messages) if messages else None,
                "\n".join(texts) if texts else None, case.system_out, case.system_err, case.time,
            ))
print(len(records), len(leaves), sum(1 for r in records if r[5] != "success"))
