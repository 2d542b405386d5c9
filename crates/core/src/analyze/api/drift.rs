//! Drift: the head description against the base one — operations added and removed, and
//! breaking changes to the operations in both.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::rc::Rc;

use serde_json::Value;

use crate::ingest::openapi::{MAX_REF_HOPS, Operation, Spec, template_shape};
use crate::model::api::{BreakingChange, BreakingKind, Drift};

/// How deep drift follows a schema (nested properties, items and `allOf`) before it stops and
/// says the comparison is incomplete; deeper than any description written by hand, and well
/// within the stack.
const MAX_DEPTH: usize = 64;
/// How many schema pairs one drift compares before it stops and says so. Shared schemas are
/// compared once per place (memoised below), so a real description stays far below this; the
/// budget bounds what a pull request's description can make the run do.
const MAX_COMPARISONS: usize = 200_000;

/// A schema with `allOf` merged and references followed.
#[derive(Default)]
struct Flat<'a> {
    types: Option<BTreeSet<String>>,
    enum_: Option<Vec<&'a Value>>,
    properties: Vec<(&'a str, usize, &'a Value)>,
    required: BTreeSet<&'a str>,
    items: Option<(usize, &'a Value)>,
}

impl<'a> Flat<'a> {
    /// `later` merged after `self`, as if its fields had been read after `self`'s: a later
    /// type, enum or items replaces, a property already present stays.
    fn merge(&mut self, later: &Flat<'a>) {
        if later.types.is_some() {
            self.types.clone_from(&later.types);
        }
        if later.enum_.is_some() {
            self.enum_.clone_from(&later.enum_);
        }
        for p in &later.properties {
            if !self.properties.iter().any(|(n, _, _)| *n == p.0) {
                self.properties.push(*p);
            }
        }
        self.required.extend(later.required.iter().copied());
        if later.items.is_some() {
            self.items = later.items;
        }
    }
}

/// Flattens one description's schemas, each once: an `allOf` graph that shares its parts
/// (fan-out 4 over 20 levels is 4^20 paths) costs one visit per schema.
struct Flattener<'a> {
    spec: &'a Spec,
    /// By document and node address (the description is borrowed for the whole drift).
    /// Errors too: a schema that could not be read is not read again. Shared, not copied:
    /// a schema used in many places is one allocation.
    memo: HashMap<(usize, *const Value), Result<Rc<Flat<'a>>, String>>,
    open: HashSet<(usize, *const Value)>,
}

impl<'a> Flattener<'a> {
    fn new(spec: &'a Spec) -> Self {
        Flattener {
            spec,
            memo: HashMap::new(),
            open: HashSet::new(),
        }
    }

    /// The schema at `v` with its `allOf` parts merged in order; `Err` with why, when it could
    /// not be read in full (a reference chain that does not end, `allOf` nested too deep).
    fn flat(&mut self, doc: usize, v: &'a Value, depth: usize) -> Result<Rc<Flat<'a>>, String> {
        if depth > MAX_DEPTH {
            return Err(format!("`allOf` nested deeper than {MAX_DEPTH} levels"));
        }
        let (doc, v) = self.spec.deref(doc, v);
        if let Some(r) = v.get("$ref").and_then(Value::as_str) {
            return Err(format!(
                "`$ref` `{r}` does not end in a schema (a cycle of references, or a chain longer than {MAX_REF_HOPS})"
            ));
        }
        let key = (doc, v as *const Value);
        if let Some(f) = self.memo.get(&key) {
            return f.clone();
        }
        if !self.open.insert(key) {
            // A schema whose `allOf` includes itself has no meaning to compare.
            return Err("a schema's `allOf` includes itself".to_owned());
        }
        let flat = self.read(doc, v, depth).map(Rc::new);
        self.open.remove(&key);
        self.memo.insert(key, flat.clone());
        flat
    }

    /// [`Flattener::flat`] of `v`, a schema (not a reference), not read before.
    fn read(&mut self, doc: usize, v: &'a Value, depth: usize) -> Result<Flat<'a>, String> {
        let mut flat = Flat::default();
        match v.get("type") {
            Some(Value::String(t)) if t != "null" => flat.types = Some([t.clone()].into()),
            Some(Value::String(_)) => flat.types = Some(BTreeSet::new()),
            Some(Value::Array(ts)) => {
                flat.types = Some(
                    ts.iter()
                        .filter_map(Value::as_str)
                        .filter(|t| *t != "null")
                        .map(str::to_owned)
                        .collect(),
                )
            }
            _ => {}
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
                flat.merge(&*self.flat(doc, s, depth + 1)?);
            }
        }
        Ok(flat)
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Side {
    Request,
    Response,
}

struct DriftCx<'a> {
    base: Flattener<'a>,
    head: Flattener<'a>,
    op: String,
    /// Reference pairs compared in this operation, by side and place: a shared schema is
    /// compared once where it is used first (its findings name that path).
    seen: HashSet<(bool, String, String, String)>,
    comparisons: usize,
    /// Why the comparison stopped short, when it did (the first reason).
    incomplete: Option<String>,
    out: Vec<BreakingChange>,
}

impl<'a> DriftCx<'a> {
    fn push(&mut self, kind: BreakingKind, location: String, detail: String) {
        self.out.push(BreakingChange {
            kind,
            operation: self.op.clone(),
            location,
            detail,
        });
    }

    fn stop(&mut self, why: String) {
        if self.incomplete.is_none() {
            self.incomplete = Some(format!("{}: {why}", self.op));
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn schema(
        &mut self,
        side: Side,
        (bd, b): (usize, &'a Value),
        (hd, h): (usize, &'a Value),
        place: &str,
        path: &str,
        depth: usize,
    ) {
        if self.comparisons == MAX_COMPARISONS {
            return self.stop(format!("more than {MAX_COMPARISONS} schema comparisons"));
        }
        self.comparisons += 1;
        if depth > MAX_DEPTH {
            return self.stop(format!(
                "schemas nested deeper than {MAX_DEPTH} levels at {place} {path}"
            ));
        }
        if let (Some(rb), Some(rh)) = (self.base.spec.ref_id(bd, b), self.head.spec.ref_id(hd, h))
            && !self
                .seen
                .insert((side == Side::Request, place.to_owned(), rb, rh))
        {
            return;
        }
        let (fb, fh) = match (self.base.flat(bd, b, 0), self.head.flat(hd, h, 0)) {
            (Ok(fb), Ok(fh)) => (fb, fh),
            (Err(e), _) => return self.stop(format!("base description: {e}")),
            (_, Err(e)) => return self.stop(format!("head description: {e}")),
        };
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
        base: Flattener::new(base),
        head: Flattener::new(head),
        op: String::new(),
        seen: HashSet::new(),
        comparisons: 0,
        incomplete: None,
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
            if let (Some(q), Some(hs)) = (old, p.schema)
                && let Some(bs) = q.schema
            {
                cx.schema(
                    Side::Request,
                    bs,
                    hs,
                    &format!("parameter {} {}", p.location, p.name),
                    "",
                    0,
                );
            }
        }
        let bn = base.operation_node(bop);
        let hn = head.operation_node(hop);
        fn body<'s>(
            spec: &'s Spec,
            doc: usize,
            n: &'s Value,
        ) -> (bool, Option<(usize, &'s Value)>) {
            match n.get("requestBody") {
                Some(rb) => {
                    let (d, rb) = spec.deref(doc, rb);
                    let req = rb.get("required").and_then(Value::as_bool).unwrap_or(false);
                    (req, spec.media_schema(d, rb))
                }
                None => (false, None),
            }
        }
        let (breq, bschema) = body(base, bop.doc, bn);
        let (hreq, hschema) = body(head, hop.doc, hn);
        if hreq && !breq {
            cx.push(
                BreakingKind::NewRequiredRequestProperty,
                "request body".into(),
                "request body became required".into(),
            );
        }
        if let (Some(bs), Some(hs)) = (bschema, hschema) {
            cx.schema(Side::Request, bs, hs, "request body", "", 0);
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
    d.incomplete = cx.incomplete;
    d
}
