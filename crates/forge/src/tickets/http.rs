//! The HTTP client the tracker modules share: blocking reqwest with rustls, bounded timeouts.

use std::time::Duration;

use reqwest::blocking::{Client, Response};

/// Longest wait for one tracker request.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(30);

pub(crate) fn client() -> Result<Client, String> {
    Client::builder()
        .user_agent(concat!("controlgate/", env!("CARGO_PKG_VERSION")))
        .timeout(TIMEOUT)
        .connect_timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))
}

/// A transport failure (DNS, refused, timeout) as a message.
pub(crate) fn transport(tracker: &str, e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "unreachable"
    } else {
        "request failed"
    };
    let mut msg = format!("{tracker} {what}: {e}");
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        msg.push_str(&format!(": {s}"));
        src = s.source();
    }
    msg
}

/// Status and body text of a response (the body cut to a readable length).
pub(crate) fn read(resp: Response) -> (u16, String) {
    let status = resp.status().as_u16();
    let text = resp.text().unwrap_or_default();
    (status, text)
}

/// At most `n` characters of `s`, on a char boundary.
pub(crate) fn cut(s: &str, n: usize) -> String {
    match s.char_indices().nth(n) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

/// `404 Not Found` style status text.
pub(crate) fn status_text(status: u16) -> String {
    match reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
    {
        Some(r) => format!("{status} {r}"),
        None => status.to_string(),
    }
}
