"""Trim GitHub's dereferenced OpenAPI description to the operations a project uses.
Also mirror every application/json response as application/vnd.github+json so that
clients sending GitHub's recommended Accept header don't get 406 from Prism,
and drop example Link headers that point at the real api.github.com."""
# Provenance: copied from the team's shared specs folder (shared/specs/trim-github-openapi.py);
# the `keep` list is controlgate's (the operations crates/forge/src/publish/github.rs calls).
# Regenerate the fixture after `./scripts/test` (or `npm install`) has fetched @octokit/openapi:
#   python3 tests/github/trim-github-openapi.py \
#     node_modules/@octokit/openapi/generated/api.github.com.deref.json \
#     tests/fixtures/github/openapi-subset.json
# Source description: npm @octokit/openapi (MIT), version pinned in package.json.
import json, sys
src, dst = sys.argv[1], sys.argv[2]
keep = {  # path -> methods
    "/user": ["get"],
    "/repos/{owner}/{repo}/issues/{issue_number}/comments": ["get", "post"],
    "/repos/{owner}/{repo}/issues/comments/{comment_id}": ["patch"],
    "/repos/{owner}/{repo}/check-runs": ["post"],
    "/repos/{owner}/{repo}/check-runs/{check_run_id}": ["get", "patch"],
    "/repos/{owner}/{repo}/commits/{ref}/check-runs": ["get"],
    "/repos/{owner}/{repo}/pulls/{pull_number}": ["get"],
    # The audit's population (`audit --population github`): merged PRs and direct pushes.
    "/repos/{owner}/{repo}/pulls": ["get"],
    "/repos/{owner}/{repo}/commits": ["get"],
    "/repos/{owner}/{repo}/commits/{commit_sha}/pulls": ["get"],
    # The ledger anchors (`verify --anchors github`): the workflow runs whose check runs
    # recorded a tip.
    "/repos/{owner}/{repo}/actions/runs": ["get"],
}
d = json.load(open(src))
paths = {}
for p, methods in keep.items():
    item = d["paths"][p]
    paths[p] = {k: v for k, v in item.items() if k in methods or k == "parameters"}
    for m in methods:
        for code, resp in item[m]["responses"].items():
            # Prism would emit the spec's example Link header (https://api.github.com/resource?page=2);
            # octocrab follows it to the real api.github.com. Drop it so pagination ends locally.
            resp.get("headers", {}).pop("Link", None)
            c = resp.get("content", {})
            if "application/json" in c and "application/vnd.github+json" not in c:
                c["application/vnd.github+json"] = c["application/json"]
out = {k: d[k] for k in ("openapi", "info", "servers") if k in d}
out["paths"] = paths
s = json.dumps(out)
assert '"$ref"' not in s, "unexpected $ref left in deref spec"
open(dst, "w").write(s)
print(f"{dst}: {len(s)} bytes, {len(paths)} paths")
