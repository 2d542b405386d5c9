//! Drift: the head description against the base one — operations added and removed, and
//! breaking changes to the operations in both.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use serde_json::Value;

use crate::ingest::openapi::{Operation, Spec, template_shape};
use crate::model::api::{BreakingChange, BreakingKind, Drift};

/// A schema with `allOf` merged and references followed.
#[derive(Default)]
struct Flat<'a> {
    types: Option<BTreeSet<String>>,
    enum_: Option<Vec<&'a Value>>,
    properties: Vec<(&'a str, usize, &'a Value)>,
    required: BTreeSet<&'a str>,
    items: Option<(usize, &'a Value)>,
}

fn flatten<'a>(spec: &'a Spec, doc: usize, v: &'a Value, flat: &mut Flat<'a>, depth: usize) {
    if depth > 16 {
        return;
    }
    let (doc, v) = spec.deref(doc, v);
    let mut types: Option<BTreeSet<String>> = match v.get("type") {
        Some(Value::String(t)) => Some([t.clone()].into()),
        Some(Value::Array(ts)) => Some(
            ts.iter()
                .filter_map(Value::as_str)
                .filter(|t| *t != "null")
                .map(str::to_owned)
                .collect(),
        ),
        _ => None,
    };
    if let Some(t) = &mut types {
        t.remove("null");
    }
    if types.is_some() {
        flat.types = types;
    }
    if let Some(Value::Array(e)) = v.get("enum") {
        flat.enum_ = Some(e.iter().filter(|x| !x.is_null()).collect());
    }
    if let Some(Value::Object(props)) = v.get("properties") {
        for (k, p) in props {
            if !flat.properties.iter().any(|(n, _, _)| *n == k) {
                flat.properties.push((k, doc, p));
            }
        }
    }
    if let Some(Value::Array(req)) = v.get("required") {
        flat.required.extend(req.iter().filter_map(Value::as_str));
    }
    if let Some(items) = v.get("items") {
        flat.items = Some((doc, items));
    }
    if let Some(Value::Array(all)) = v.get("allOf") {
        for s in all {
            flatten(spec, doc, s, flat, depth + 1);
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Side {
    Request,
    Response,
}

struct DriftCx<'a> {
    base: &'a Spec,
    head: &'a Spec,
    op: String,
    seen: HashSet<(String, String)>,
    out: Vec<BreakingChange>,
}

impl DriftCx<'_> {
    fn push(&mut self, kind: BreakingKind, location: String, detail: String) {
        self.out.push(BreakingChange {
            kind,
            operation: self.op.clone(),
            location,
            detail,
        });
    }

    #[allow(clippy::too_many_arguments)]
    fn schema(
        &mut self,
        side: Side,
        (bd, b): (usize, &Value),
        (hd, h): (usize, &Value),
        place: &str,
        path: &str,
        depth: usize,
    ) {
        if depth > 24 {
            return;
        }
        if let (Some(rb), Some(rh)) = (self.base.ref_id(bd, b), self.head.ref_id(hd, h))
            && !self.seen.insert((format!("{rb}@{path}"), rh))
        {
            return;
        }
        let (base, head) = (self.base, self.head);
        let mut fb = Flat::default();
        flatten(base, bd, b, &mut fb, 0);
        let mut fh = Flat::default();
        flatten(head, hd, h, &mut fh, 0);
        let loc = if path.is_empty() {
            place.to_owned()
        } else {
            format!("{place} {path}")
        };
        if let (Some(tb), Some(th)) = (&fb.types, &fh.types)
            && tb != th
        {
            let join = |s: &BTreeSet<String>| s.iter().cloned().collect::<Vec<_>>().join("|");
            self.push(
                BreakingKind::ChangedType,
                loc.clone(),
                format!("type {} → {}", join(tb), join(th)),
            );
            return;
        }
        match (&fb.enum_, &fh.enum_) {
            (Some(eb), Some(eh)) => {
                let removed: Vec<String> = eb
                    .iter()
                    .filter(|x| !eh.contains(x))
                    .map(|x| x.to_string())
                    .collect();
                if !removed.is_empty() {
                    self.push(
                        BreakingKind::NarrowedEnum,
                        loc.clone(),
                        format!("enum no longer allows {}", removed.join(", ")),
                    );
                }
            }
            (None, Some(eh)) => {
                let vals: Vec<String> = eh.iter().take(5).map(|x| x.to_string()).collect();
                self.push(
                    BreakingKind::NarrowedEnum,
                    loc.clone(),
                    format!("now restricted to enum {}", vals.join(", ")),
                );
            }
            _ => {}
        }
        match side {
            Side::Request => {
                for r in &fh.required {
                    if !fb.required.contains(r) {
                        let detail = if fb.properties.iter().any(|(n, _, _)| n == r) {
                            format!("`{r}` became required")
                        } else {
                            format!("new required property `{r}`")
                        };
                        self.push(
                            BreakingKind::NewRequiredRequestProperty,
                            format!("{place} {path}.{r}"),
                            detail,
                        );
                    }
                }
            }
            Side::Response => {
                if !fh.properties.is_empty()
                    || fh.types.as_ref().is_some_and(|t| t.contains("object"))
                {
                    for (name, _, _) in &fb.properties {
                        if !fh.properties.iter().any(|(n, _, _)| n == name) {
                            self.push(
                                BreakingKind::RemovedResponseProperty,
                                format!("{place} {path}.{name}"),
                                format!("property `{name}` removed"),
                            );
                        }
                    }
                }
            }
        }
        for (name, pbd, pb) in &fb.properties {
            if let Some((_, phd, ph)) = fh.properties.iter().find(|(n, _, _)| n == name) {
                self.schema(
                    side,
                    (*pbd, pb),
                    (*phd, ph),
                    place,
                    &format!("{path}.{name}"),
                    depth + 1,
                );
            }
        }
        if let (Some(ib), Some(ih)) = (fb.items, fh.items) {
            self.schema(side, ib, ih, place, &format!("{path}[]"), depth + 1);
        }
    }
}

fn op_index(spec: &Spec) -> BTreeMap<(String, String), &Operation> {
    spec.operations
        .iter()
        .map(|o| ((template_shape(&o.path), o.method.clone()), o))
        .collect()
}

/// Head against base: operations added and removed, and breaking changes to operations
/// in both (removed operation, removed response property, newly required parameter or
/// request property, changed type, narrowed enum).
pub fn drift(base: &Spec, head: &Spec) -> Drift {
    let bi = op_index(base);
    let hi = op_index(head);
    let mut d = Drift::default();
    let mut cx = DriftCx {
        base,
        head,
        op: String::new(),
        seen: HashSet::new(),
        out: Vec::new(),
    };
    for (k, hop) in &hi {
        if !bi.contains_key(k) {
            d.added.push(hop.key());
        }
    }
    for (k, bop) in &bi {
        let Some(hop) = hi.get(k) else {
            d.removed.push(bop.key());
            cx.op = bop.key();
            cx.push(
                BreakingKind::RemovedOperation,
                "operation".into(),
                "operation removed".into(),
            );
            continue;
        };
        cx.op = hop.key();
        cx.seen.clear();
        // Parameters (path-template names may differ; path parameters matched by position
        // are part of the template, so only their schemas are compared by name).
        let bp = base.params(bop);
        let hp = head.params(hop);
        for p in &hp {
            let old = bp
                .iter()
                .find(|q| q.name == p.name && q.location == p.location);
            if p.required && p.location != "path" && !old.is_some_and(|q| q.required) {
                let detail = if old.is_some() {
                    format!("{} parameter `{}` became required", p.location, p.name)
                } else {
                    format!("new required {} parameter `{}`", p.location, p.name)
                };
                cx.push(
                    BreakingKind::NewRequiredParameter,
                    format!("parameter {} {}", p.location, p.name),
                    detail,
                );
            }
            if let (Some(q), Some((hd, hs))) = (old, &p.schema)
                && let Some((bd, bs)) = &q.schema
            {
                cx.schema(
                    Side::Request,
                    (*bd, bs),
                    (*hd, hs),
                    &format!("parameter {} {}", p.location, p.name),
                    "",
                    0,
                );
            }
        }
        let bn = base.operation_node(bop);
        let hn = head.operation_node(hop);
        let body = |spec: &Spec, doc: usize, n: &Value| -> (bool, Option<(usize, Value)>) {
            match n.get("requestBody") {
                Some(rb) => {
                    let (d, rb) = spec.deref(doc, rb);
                    let req = rb.get("required").and_then(Value::as_bool).unwrap_or(false);
                    (req, spec.media_schema(d, rb).map(|(d, s)| (d, s.clone())))
                }
                None => (false, None),
            }
        };
        let (breq, bschema) = body(base, bop.doc, bn);
        let (hreq, hschema) = body(head, hop.doc, hn);
        if hreq && !breq {
            cx.push(
                BreakingKind::NewRequiredRequestProperty,
                "request body".into(),
                "request body became required".into(),
            );
        }
        if let (Some((bd, bs)), Some((hd, hs))) = (&bschema, &hschema) {
            cx.schema(Side::Request, (*bd, bs), (*hd, hs), "request body", "", 0);
        }
        if let (Some(Value::Object(br)), Some(Value::Object(hr))) =
            (bn.get("responses"), hn.get("responses"))
        {
            for (code, bresp) in br {
                let Some(hresp) = hr.get(code) else { continue };
                let bs = base.media_schema(bop.doc, bresp);
                let hs = head.media_schema(hop.doc, hresp);
                if let (Some(bs), Some(hs)) = (bs, hs) {
                    cx.schema(Side::Response, bs, hs, &format!("response {code}"), "", 0);
                }
            }
        }
    }
    d.breaking = cx.out;
    d
}
