"""Peer for bench/speed.py, standing in for EnricoMi/publish-unit-test-result-action's JUnit
reading (its code is not published as a package): lxml parses the file with `huge_tree`, then
junitparser wraps the tree (`JUnitXml.fromroot`) and every case is turned into a record with
suite, class, name, file, line, result, message, content and time — the fields that action
publishes. Written for this benchmark from the action's documented behaviour."""
import sys

from junitparser import Error, Failure, JUnitXml, Skipped
from lxml import etree

records = []
parser = etree.XMLParser(huge_tree=True)
for path in sys.argv[1:]:
    root = etree.parse(path, parser=parser).getroot()
    xml = JUnitXml.fromroot(root)
    suites = [xml] if root.tag == "testsuite" else xml
    for suite in suites:
        for case in suite:
            results = case.result
            kind = "success"
            message = content = None
            for r in results:
                if isinstance(r, Error):
                    kind = "error"
                elif isinstance(r, Failure) and kind != "error":
                    kind = "failure"
                elif isinstance(r, Skipped) and kind == "success":
                    kind = "skipped"
                message = message or r.message
                content = content or r.text
            records.append(
                (suite.name, case.classname, case.name, case._elem.get("file"),
                 case._elem.get("line"), kind, message, content, case.time)
            )
print(len(records), sum(1 for r in records if r[5] != "success"))
