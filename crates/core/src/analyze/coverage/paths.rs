//! Report paths → repository-relative paths: path fixes, repository root and CI checkout
//! prefixes stripped, source roots tried ([`PathMapper`]).

use std::collections::HashSet;
use std::path::PathBuf;

use crate::error::Error;

/// Maps report paths to repository-relative paths.
pub struct PathMapper {
    fixes: Vec<(String, String)>,
    prefixes: Vec<String>,
    files: HashSet<String>,
}

impl PathMapper {
    /// `roots`: absolute paths of the repository (as given, canonical, git's workdir);
    /// `workspace`: `$GITHUB_WORKSPACE`; `files`: repository-relative paths.
    pub fn new(
        roots: &[PathBuf],
        workspace: Option<&str>,
        path_fixes: &[String],
        files: impl IntoIterator<Item = String>,
    ) -> Result<Self, Error> {
        let mut fixes = Vec::new();
        for f in path_fixes {
            let Some((before, after)) = f.split_once("::") else {
                return Err(Error::Usage(format!(
                    "path_fixes entry `{f}` has no `::`; write `before::after` (e.g. `/app/::` to \
                     strip /app/, `::src/` to prepend src/)"
                )));
            };
            fixes.push((slashes(before), slashes(after)));
        }
        let mut prefixes: Vec<String> = Vec::new();
        let mut add = |p: &str| {
            let mut p = slashes(p);
            while p.len() > 1 && p.ends_with('/') {
                p.pop();
            }
            if !p.is_empty() && p != "/" && !prefixes.contains(&format!("{p}/")) {
                prefixes.push(format!("{p}/"));
            }
        };
        for r in roots {
            add(&r.to_string_lossy());
        }
        if let Some(w) = workspace {
            add(w);
        }
        add("/github/workspace");
        // longest first, so a nested root wins
        prefixes.sort_by_key(|p| std::cmp::Reverse(p.len()));
        Ok(PathMapper {
            fixes,
            prefixes,
            files: files.into_iter().collect(),
        })
    }

    pub fn contains(&self, path: &str) -> bool {
        self.files.contains(path)
    }

    fn apply_fixes(&self, p: &str) -> Option<String> {
        let mut out: Option<String> = None;
        for (before, after) in &self.fixes {
            let cur = out.as_deref().unwrap_or(p);
            if let Some(rest) = cur.strip_prefix(before.as_str()) {
                out = Some(format!("{after}{rest}"));
            }
        }
        out
    }

    /// Normalises one report path: `\` → `/`, path fixes, repository root and CI prefixes
    /// stripped, `.`/`..` segments resolved.
    pub fn normalize(&self, raw: &str) -> String {
        let p = slashes(raw);
        let fixed = self.apply_fixes(&p);
        let mut p = strip_ci(&self.prefixes, fixed.as_deref().unwrap_or(&p)).to_string();
        if fixed.is_none() {
            if let Some(f) = self.apply_fixes(&p) {
                p = strip_ci(&self.prefixes, &f).to_string();
            }
        }
        clean(&p)
    }

    /// The first candidate that names a repository file, else `Err(first candidate)`.
    pub(crate) fn resolve(&self, name: &str, roots: &[String]) -> Result<String, String> {
        let mut first: Option<String> = None;
        let absolute =
            name.starts_with('/') || name.starts_with('\\') || name.get(1..2) == Some(":");
        if !absolute {
            for r in roots {
                let joined = if r.is_empty() {
                    name.to_string()
                } else {
                    format!("{}/{name}", r.trim_end_matches(['/', '\\']))
                };
                let n = self.normalize(&joined);
                if self.files.contains(&n) {
                    return Ok(n);
                }
                first.get_or_insert(n);
            }
        }
        let n = self.normalize(name);
        if self.files.contains(&n) {
            return Ok(n);
        }
        Err(if absolute || roots.is_empty() {
            n
        } else {
            first.unwrap_or(n)
        })
    }

    /// [`Self::resolve`] without roots, then diff-cover's Clover rule: a report path that ends
    /// with `/` + a repository file names that file (`/build/app/src/a.js` → `src/a.js`, a
    /// report written on another machine). diff-cover matches every such file; the longest one
    /// (the most specific) is taken here. `Err(normalised path)` when none matches.
    pub(crate) fn resolve_by_suffix(&self, name: &str) -> Result<String, String> {
        let n = match self.resolve(name, &[]) {
            Ok(p) => return Ok(p),
            Err(n) => n,
        };
        let mut rest = n.as_str();
        while let Some(slash) = rest.find('/') {
            rest = &rest[slash + 1..];
            if self.files.contains(rest) {
                return Ok(rest.to_string());
            }
        }
        Err(n)
    }
}

fn slashes(p: &str) -> String {
    p.replace('\\', "/")
}

fn strip_ci<'a>(prefixes: &[String], p: &'a str) -> &'a str {
    for pre in prefixes {
        if let Some(rest) = p.strip_prefix(pre.as_str()) {
            return rest;
        }
    }
    // Runner checkouts: /home/runner/work/<repo>/<repo>/, /Users/runner/work/<repo>/<repo>/,
    // D:/a/<repo>/<repo>/, and container jobs' /__w/<repo>/<repo>/.
    let segs: Vec<&str> = p.splitn(8, '/').collect();
    let skip = match segs.as_slice() {
        ["", "home" | "Users", _, "work", _, _, ..] => 6,
        ["", "__w", _, _, ..] => 4,
        [drive, "a", _, _, ..] if drive.len() == 2 && drive.ends_with(':') => 4,
        _ => 0,
    };
    if skip > 0 && segs.len() > skip {
        let n: usize = segs[..skip].iter().map(|s| s.len() + 1).sum();
        return &p[n.min(p.len())..];
    }
    p
}

fn clean(p: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    let abs = p.starts_with('/');
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if out.pop().is_none() && abs {
                    // stays at root
                }
            }
            s => out.push(s),
        }
    }
    let joined = out.join("/");
    if abs { format!("/{joined}") } else { joined }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_normalise() {
        let files = [
            "src/a.py".to_string(),
            "pkg/b.ts".to_string(),
            "src/main/java/com/x/A.java".to_string(),
        ];
        let m = PathMapper::new(
            &[PathBuf::from("/repo/root/")],
            Some("/ws/r"),
            &["/app/::".to_string(), "lib/::pkg/".to_string()],
            files,
        )
        .unwrap();
        for raw in [
            "/repo/root/src/a.py",
            "/github/workspace/src/a.py",
            "/ws/r/src/a.py",
            "/home/runner/work/r/r/src/a.py",
            "D:\\a\\r\\r\\src\\a.py",
            "/__w/r/r/src/a.py",
            "./src/./x/../a.py",
            "/app/src/a.py",
        ] {
            assert_eq!(m.resolve(raw, &[]), Ok("src/a.py".to_string()), "{raw}");
        }
        assert_eq!(m.resolve("lib/b.ts", &[]), Ok("pkg/b.ts".into()));
        assert_eq!(
            m.resolve("b.ts", &["/repo/root/pkg".into()]),
            Ok("pkg/b.ts".into())
        );
        assert_eq!(
            m.resolve(
                "com/x/A.java",
                &["src/main/kotlin".into(), "src/main/java".into()]
            ),
            Ok("src/main/java/com/x/A.java".into())
        );
        assert_eq!(
            m.resolve("/elsewhere/z.py", &[]),
            Err("/elsewhere/z.py".into())
        );
        assert!(PathMapper::new(&[], None, &["nocolons".into()], Vec::new()).is_err());
    }

    #[test]
    fn clover_paths_match_by_suffix() {
        let files = ["src/a.js", "a.js", "lib/src/a.js", "b.php"].map(String::from);
        let m = PathMapper::new(&[PathBuf::from("/repo")], None, &[], files).unwrap();
        // exact (after the usual normalisation) first
        assert_eq!(m.resolve_by_suffix("/repo/src/a.js"), Ok("src/a.js".into()));
        assert_eq!(m.resolve_by_suffix("./a.js"), Ok("a.js".into()));
        // then the longest repository file the path ends with, at a `/`
        assert_eq!(
            m.resolve_by_suffix("/build/app/src/a.js"),
            Ok("src/a.js".into())
        );
        assert_eq!(
            m.resolve_by_suffix("/x/lib/src/a.js"),
            Ok("lib/src/a.js".into())
        );
        assert_eq!(m.resolve_by_suffix("C:\\ci\\b.php"), Ok("b.php".into()));
        assert_eq!(
            m.resolve_by_suffix("/build/xa.js"),
            Err("/build/xa.js".into())
        );
        assert_eq!(m.resolve_by_suffix("dummy"), Err("dummy".into()));
        // plain `resolve` does not match by suffix
        assert!(m.resolve("/build/app/src/a.js", &[]).is_err());
    }
}
