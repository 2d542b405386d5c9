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

/// The variables git needs to find itself, the user's git config, the network (proxies, CA
/// certificates, an ssh agent) and Windows' basics. git runs with these alone: nothing it starts
/// (a local remote's upload-pack, an ssh command) inherits the job's credentials.
pub const GIT_ENV: &[&str] = &[
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "TMPDIR",
    "TMP",
    "TEMP",
    "TZ",
    "XDG_CONFIG_HOME",
    "GIT_EXEC_PATH",
    "GIT_CONFIG_GLOBAL",
    "GIT_CONFIG_SYSTEM",
    "GIT_CONFIG_NOSYSTEM",
    "GIT_SSH",
    "GIT_SSH_COMMAND",
    "GIT_SSH_VARIANT",
    "GIT_CONFIG_PARAMETERS",
    "GIT_SSL_CAINFO",
    "GIT_SSL_CAPATH",
    "GIT_SSL_CERT",
    "GIT_SSL_KEY",
    "GIT_SSL_CERT_PASSWORD_PROTECTED",
    "GIT_SSL_NO_VERIFY",
    "NIX_SSL_CERT_FILE",
    "LD_LIBRARY_PATH",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "SSH_AUTH_SOCK",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "ALL_PROXY",
    "SYSTEMROOT",
    "COMSPEC",
    "PATHEXT",
    "WINDIR",
    "USERPROFILE",
    "APPDATA",
    "LOCALAPPDATA",
    "HOMEDRIVE",
    "HOMEPATH",
    "ProgramData",
];

/// Whether the variable `name` is one git runs with ([`GIT_ENV`]), compared without case:
/// Windows spells them `Path`, `SystemRoot`...
pub fn is_git_env(name: &str) -> bool {
    GIT_ENV.iter().any(|g| g.eq_ignore_ascii_case(name))
}

impl std::fmt::Debug for EnvVars {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(k, _)| k))
            .finish()
    }
}
