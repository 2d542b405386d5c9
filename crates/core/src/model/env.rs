//! The environment as plain data: gathered once at the edge (the binary, `actions_env`), passed
//! down to whatever needs a variable (an evidence store's credentials), never read again.

/// Environment variables, names and values; `Debug` shows the names only (values may be
/// credentials).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct EnvVars(pub Vec<(String, String)>);

impl EnvVars {
    /// The value of `name` (the last one set).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

impl std::fmt::Debug for EnvVars {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(k, _)| k))
            .finish()
    }
}
