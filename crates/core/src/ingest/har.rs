//! Recorded HTTP exchanges: HAR 1.2 files (Playwright, browsers, recording proxies) and the
//! controlgate exchange log, JSON Lines with one exchange per line:
//!
//! ```json
//! {"method": "GET", "url": "http://127.0.0.1:8080/v2/pet/1", "status": 200,
//!  "request_headers": {"Authorization": "Bearer …"}, "response_body": {"id": 1}}
//! ```
//!
//! `request_headers` is optional: an object (`{"name": "value"}`, values may be arrays) or a
//! HAR-style list (`[{"name": .., "value": ..}]`). `response_body` is optional: a string (the
//! raw body) or any JSON value (the parsed body). Unknown keys are ignored.

use std::io::{BufRead, Read};

use serde::Deserialize;
use serde_json::Value;

use crate::error::ParseError;

/// A response body as recorded.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    Text(String),
    Json(Value),
}

impl Body {
    /// The body as JSON, when it is JSON.
    pub fn json(&self) -> Option<std::borrow::Cow<'_, Value>> {
        match self {
            Body::Json(v) => Some(std::borrow::Cow::Borrowed(v)),
            Body::Text(t) => {
                let t = t.trim_start();
                if t.starts_with('{') || t.starts_with('[') {
                    serde_json::from_str(t).ok().map(std::borrow::Cow::Owned)
                } else {
                    None
                }
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Exchange {
    /// Uppercase.
    pub method: String,
    pub url: String,
    /// 0 when no response was received (HAR records aborted requests that way).
    pub status: u16,
    /// Header names lowercase, values as recorded.
    pub request_headers: Vec<(String, String)>,
    pub response_body: Option<Body>,
    /// HAR: index in `log.entries` (0-based); log: line number (1-based).
    pub position: u64,
}

#[derive(Deserialize)]
struct Har {
    log: HarLog,
}

#[derive(Deserialize)]
struct HarLog {
    entries: Vec<HarEntry>,
}

#[derive(Deserialize)]
struct HarEntry {
    request: HarRequest,
    response: HarResponse,
}

#[derive(Deserialize)]
struct HarRequest {
    method: String,
    url: String,
    #[serde(default)]
    headers: Vec<HarHeader>,
}

#[derive(Deserialize)]
struct HarHeader {
    name: String,
    #[serde(default)]
    value: String,
}

#[derive(Deserialize)]
struct HarResponse {
    #[serde(default)]
    status: i64,
    #[serde(default)]
    content: Option<HarContent>,
}

#[derive(Deserialize)]
struct HarContent {
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    encoding: Option<String>,
}

/// Reads a HAR document, calling `on` once per entry in order. Returns the entry count.
pub fn read_har(reader: impl Read, on: &mut dyn FnMut(Exchange)) -> Result<u64, ParseError> {
    let har: Har = serde_json::from_reader(reader).map_err(|e| {
        ParseError::at(
            (e.line() > 0).then_some(e.line() as u64),
            None,
            format!("not a HAR file: {e}"),
        )
    })?;
    let n = har.log.entries.len() as u64;
    for (i, e) in har.log.entries.into_iter().enumerate() {
        let body = e.response.content.and_then(|c| {
            let text = c.text?;
            if c.encoding.as_deref() == Some("base64") {
                base64_decode(&text).map(|b| Body::Text(String::from_utf8_lossy(&b).into_owned()))
            } else {
                Some(Body::Text(text))
            }
        });
        on(Exchange {
            method: e.request.method.to_ascii_uppercase(),
            url: e.request.url,
            status: u16::try_from(e.response.status).unwrap_or(0),
            request_headers: e
                .request
                .headers
                .into_iter()
                .map(|h| (h.name.to_ascii_lowercase(), h.value))
                .collect(),
            response_body: body,
            position: i as u64,
        });
    }
    Ok(n)
}

#[derive(Deserialize)]
struct LogLine {
    method: String,
    url: String,
    status: u16,
    #[serde(default)]
    request_headers: Option<Value>,
    #[serde(default)]
    response_body: Option<Value>,
}

/// Reads an exchange log (JSON Lines), calling `on` once per non-blank line. Returns the
/// exchange count. A malformed line is an error naming the line.
pub fn read_log(mut reader: impl BufRead, on: &mut dyn FnMut(Exchange)) -> Result<u64, ParseError> {
    let mut line = String::new();
    let mut no = 0u64;
    let mut n = 0u64;
    loop {
        line.clear();
        let read = reader
            .read_line(&mut line)
            .map_err(|e| ParseError::at_line(no + 1, format!("cannot read: {e}")))?;
        if read == 0 {
            break;
        }
        no += 1;
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        let l: LogLine = serde_json::from_str(t).map_err(|e| {
            ParseError::at_line(
                no,
                format!("not an exchange (`{{\"method\",\"url\",\"status\"}}`): {e}"),
            )
        })?;
        let mut headers = Vec::new();
        match l.request_headers {
            Some(Value::Object(m)) => {
                for (k, v) in m {
                    let name = k.to_ascii_lowercase();
                    match v {
                        Value::Array(vs) => {
                            for v in vs {
                                headers.push((name.clone(), value_text(v)));
                            }
                        }
                        v => headers.push((name, value_text(v))),
                    }
                }
            }
            Some(Value::Array(list)) => {
                for h in list {
                    if let Some(name) = h.get("name").and_then(Value::as_str) {
                        let v = h.get("value").cloned().unwrap_or(Value::Null);
                        headers.push((name.to_ascii_lowercase(), value_text(v)));
                    }
                }
            }
            None | Some(Value::Null) => {}
            Some(_) => {
                return Err(ParseError::at_line(
                    no,
                    "request_headers must be an object or a list of {name, value}",
                ));
            }
        }
        let body = match l.response_body {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(Body::Text(s)),
            Some(v) => Some(Body::Json(v)),
        };
        n += 1;
        on(Exchange {
            method: l.method.to_ascii_uppercase(),
            url: l.url,
            status: l.status,
            request_headers: headers,
            response_body: body,
            position: no,
        });
    }
    Ok(n)
}

fn value_text(v: Value) -> String {
    match v {
        Value::String(s) => s,
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Standard or URL-safe base64, padding optional, whitespace ignored: HAR writers differ
/// (browsers wrap lines, some tools drop the padding or use the URL-safe alphabet).
pub fn base64_decode(s: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    use base64::alphabet::{STANDARD, URL_SAFE};
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    const LENIENT: GeneralPurposeConfig = GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true);
    const ENGINES: [GeneralPurpose; 2] = [
        GeneralPurpose::new(&STANDARD, LENIENT),
        GeneralPurpose::new(&URL_SAFE, LENIENT),
    ];
    let compact: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    ENGINES.iter().find_map(|e| e.decode(&compact).ok())
}

/// Reads a whole HAR from bytes (convenience for tests).
pub fn har_exchanges(bytes: &[u8]) -> Result<Vec<Exchange>, ParseError> {
    let mut v = Vec::new();
    read_har(bytes, &mut |e| v.push(e))?;
    Ok(v)
}

/// Reads a whole exchange log from bytes (convenience for tests).
pub fn log_exchanges(bytes: &[u8]) -> Result<Vec<Exchange>, ParseError> {
    let mut v = Vec::new();
    read_log(bytes, &mut |e| v.push(e))?;
    Ok(v)
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn har_entries_with_base64_bodies() {
        let har = br#"{"log":{"version":"1.2","creator":{"name":"x"},"entries":[
          {"request":{"method":"get","url":"http://h/a","headers":[{"name":"Authorization","value":"Bearer t"}]},
           "response":{"status":200,"content":{"mimeType":"application/json","text":"eyJhIjoxfQ==","encoding":"base64"}}},
          {"request":{"method":"POST","url":"http://h/b"},"response":{"status":0}}]}}"#;
        let ex = har_exchanges(har).unwrap();
        assert_eq!(ex.len(), 2);
        assert_eq!(ex[0].method, "GET");
        assert_eq!(ex[0].request_headers[0].0, "authorization");
        assert_eq!(ex[0].response_body, Some(Body::Text("{\"a\":1}".into())));
        assert_eq!((ex[1].status, ex[1].position), (0, 1));
        let e = har_exchanges(b"{\"log\":\n{}}").unwrap_err();
        assert_eq!(e.location.line, Some(2));
    }

    #[test]
    fn log_lines_with_header_forms_and_errors_by_line() {
        let log = b"{\"method\":\"get\",\"url\":\"/a\",\"status\":401}\n\n{\"method\":\"GET\",\"url\":\"/b\",\"status\":200,\"request_headers\":{\"Cookie\":[\"a=1\",\"b=2\"]},\"response_body\":{\"x\":1}}\n{\"method\":\"GET\",\"url\":\"/c\",\"status\":500,\"request_headers\":[{\"name\":\"X-Key\",\"value\":\"k\"}],\"response_body\":\"oops\"}\n";
        let ex = log_exchanges(log).unwrap();
        assert_eq!(ex.len(), 3);
        assert_eq!(ex[1].position, 3);
        assert_eq!(ex[1].request_headers.len(), 2);
        assert_eq!(ex[2].request_headers[0].0, "x-key");
        assert_eq!(ex[2].response_body, Some(Body::Text("oops".into())));
        let e =
            log_exchanges(b"{\"method\":\"GET\",\"url\":\"/a\",\"status\":200}\n{\"method\":1}\n")
                .unwrap_err();
        assert_eq!(e.location.line, Some(2));
        assert!(e.message.contains("not an exchange"), "{e}");
    }

    #[test]
    fn base64_variants() {
        assert_eq!(base64_decode("aGk=").unwrap(), b"hi");
        assert_eq!(base64_decode("aGk").unwrap(), b"hi");
        assert!(base64_decode("a*").is_none());
        assert_eq!(base64_decode("+/8=").unwrap(), [0xfb, 0xff]);
        assert_eq!(base64_decode("-_8").unwrap(), [0xfb, 0xff]);
        assert_eq!(base64_decode("aG\r\n k=").unwrap(), b"hi");
    }
}
