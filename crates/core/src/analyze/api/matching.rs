//! Matching to described operations: a request's method and path through a segment trie,
//! and a test's operation tag by id, template or concrete path.

use std::borrow::Cow;
use std::collections::HashMap;

use crate::ingest::openapi::{self, Spec, percent_decode, template_shape};

#[derive(Default)]
struct Node {
    literal: HashMap<String, Node>,
    /// Templated segments: literal prefix, literal suffix (`{id}.json` → ("", ".json")),
    /// most specific (longest literal part) first.
    params: Vec<(String, String, Node)>,
    op: Option<usize>,
}

/// Request → operation, by method and path template. One segment trie per method; at each
/// segment a literal child is tried before templated ones (`/pets/mine` beats
/// `/pets/{id}`), backtracking when the literal branch dead-ends.
pub struct Matcher {
    methods: HashMap<String, Node>,
    /// Base paths as segments, longest first, ending with the empty base.
    bases: Vec<Vec<String>>,
}

fn segments(path: &str) -> impl Iterator<Item = &str> {
    let p = path.strip_prefix('/').unwrap_or(path);
    let p = p.strip_suffix('/').unwrap_or(p);
    p.split('/').filter(move |_| !p.is_empty())
}

impl Matcher {
    /// `extra_bases`: prefixes to strip besides the servers' base paths.
    pub fn new(spec: &Spec, extra_bases: &[String]) -> Matcher {
        let mut methods: HashMap<String, Node> = HashMap::new();
        let mut bases: Vec<Vec<String>> = Vec::new();
        let mut add_base = |b: &str| {
            let segs: Vec<String> = segments(b).map(percent_decode).collect();
            if !segs.is_empty() && !bases.contains(&segs) {
                bases.push(segs);
            }
        };
        for b in extra_bases {
            add_base(b);
        }
        for (i, op) in spec.operations.iter().enumerate() {
            for b in &op.base_paths {
                add_base(b);
            }
            let mut node = methods.entry(op.method.clone()).or_default();
            for seg in segments(&op.path) {
                node = match (seg.find('{'), seg.rfind('}')) {
                    (Some(a), Some(b)) if a < b => {
                        let (pre, suf) = (percent_decode(&seg[..a]), percent_decode(&seg[b + 1..]));
                        let pos = node
                            .params
                            .iter()
                            .position(|(p, s, _)| *p == pre && *s == suf);
                        let pos = match pos {
                            Some(p) => p,
                            None => {
                                node.params.push((pre, suf, Node::default()));
                                node.params
                                    .sort_by_key(|(p, s, _)| std::cmp::Reverse(p.len() + s.len()));
                                node.params
                                    .iter()
                                    .position(|(p, s, _)| {
                                        *p == percent_decode(&seg[..a])
                                            && *s == percent_decode(&seg[b + 1..])
                                    })
                                    .unwrap_or(0)
                            }
                        };
                        &mut node.params[pos].2
                    }
                    _ => node.literal.entry(percent_decode(seg)).or_default(),
                };
            }
            if node.op.is_none() {
                node.op = Some(i);
            }
        }
        bases.sort_by_key(|b| std::cmp::Reverse(b.len()));
        bases.push(Vec::new());
        Matcher { methods, bases }
    }

    /// The operation a request path (no query) matches, trying each base path then none.
    pub fn match_path(&self, method: &str, path: &str) -> Option<usize> {
        let root = self.methods.get(method)?;
        let segs: Vec<Cow<'_, str>> = segments(path)
            .map(|s| {
                if s.contains('%') {
                    Cow::Owned(percent_decode(s))
                } else {
                    Cow::Borrowed(s)
                }
            })
            .collect();
        for base in &self.bases {
            if base.len() <= segs.len() && base.iter().zip(&segs).all(|(b, s)| b == s) {
                if let Some(op) = walk(root, &segs[base.len()..]) {
                    return Some(op);
                }
            }
        }
        None
    }

    /// Matches a full or relative URL.
    pub fn match_url(&self, method: &str, url: &str) -> Option<usize> {
        self.match_path(method, openapi::url_path(url))
    }
}

fn walk(node: &Node, segs: &[Cow<'_, str>]) -> Option<usize> {
    let Some((first, rest)) = segs.split_first() else {
        return node.op;
    };
    if let Some(child) = node.literal.get(first.as_ref())
        && let Some(op) = walk(child, rest)
    {
        return Some(op);
    }
    for (pre, suf, child) in &node.params {
        let s = first.as_ref();
        if s.len() > pre.len() + suf.len()
            && s.starts_with(pre.as_str())
            && s.ends_with(suf.as_str())
            && let Some(op) = walk(child, rest)
        {
            return Some(op);
        }
    }
    None
}

/// Operation tags of tests → operation: `operationId`, `METHOD /path/{template}` or
/// `METHOD /concrete/path`, optionally followed by a status code.
pub(super) struct TagIndex<'a> {
    by_id: HashMap<&'a str, usize>,
    by_shape: HashMap<(String, String), usize>,
}

impl<'a> TagIndex<'a> {
    pub(super) fn new(spec: &'a Spec) -> Self {
        let mut by_id = HashMap::new();
        let mut by_shape = HashMap::new();
        for (i, op) in spec.operations.iter().enumerate() {
            if let Some(id) = &op.operation_id {
                by_id.entry(id.as_str()).or_insert(i);
            }
            by_shape
                .entry((op.method.clone(), template_shape(&op.path)))
                .or_insert(i);
        }
        TagIndex { by_id, by_shape }
    }

    /// The operation `item` names (None when it names none) and the status it names; None
    /// for a blank item. A concrete path is matched by `matcher` like a request.
    pub(super) fn resolve(
        &self,
        matcher: &Matcher,
        item: &str,
    ) -> Option<(Option<usize>, Option<u16>)> {
        let mut tokens: Vec<&str> = item.split_whitespace().collect();
        if tokens.is_empty() {
            return None;
        }
        let status = match tokens.last() {
            Some(t) if tokens.len() > 1 && t.len() == 3 => t.parse::<u16>().ok(),
            _ => None,
        };
        if status.is_some() {
            tokens.pop();
        }
        let op = match tokens.as_slice() {
            [id] => self.by_id.get(id).copied(),
            [m, path] => {
                let m = m.to_ascii_uppercase();
                self.by_shape
                    .get(&(m.clone(), template_shape(path)))
                    .copied()
                    .or_else(|| matcher.match_url(&m, path))
            }
            _ => None,
        };
        Some((op, status))
    }
}
