//! Linear GraphQL: the only module that talks to Linear.
//!
//! One `attachmentCreate` per ticket. Linear keys attachments by (issue, `url`): creating one
//! with a URL the issue already has updates it, so the URL is stable per PR — the PR URL with a
//! `#controlgate` fragment, distinct from the attachment Linear's own GitHub integration keeps
//! for the bare PR URL. `issueId` takes the identifier (`ENG-123`) as well as the UUID.

use reqwest::blocking::Client;
use serde_json::{Value, json};

use super::http::{self, cut, status_text};
use super::text;
use super::{ChangeContext, LinearCredentials, LinkResult, LinkStatus, RunSummary, Tracker};

/// The mutation sent for every ticket (validated against Linear's SDL in the tests).
pub const ATTACHMENT_MUTATION: &str =
    "mutation ControlgateAttachment($input: AttachmentCreateInput!) {
  attachmentCreate(input: $input) {
    success
    attachment { id url subtitle }
  }
}";

pub struct Linear<'a> {
    client: &'a Client,
    creds: &'a LinearCredentials,
}

/// The attachment URL: stable per PR.
pub fn attachment_url(ctx: &ChangeContext) -> String {
    let base = ctx.pr_url.split('#').next().unwrap_or_default();
    format!("{base}#controlgate")
}

/// The `AttachmentCreateInput` for `key`.
pub fn attachment_input(key: &str, ctx: &ChangeContext, summary: &RunSummary) -> Value {
    let mut metadata = json!({
        "verdict": text::verdict_word(summary.verdict),
        "state": text::state(ctx),
        "change": ctx.change_name(),
    });
    if let Some(c) = &summary.coverage {
        for (k, v) in [
            ("projectCoverage", c.project),
            ("baseProjectCoverage", c.base_project),
            ("coverageDeltaPp", c.delta_pp),
            ("patchCoverage", c.patch),
        ] {
            if let Some(v) = v {
                metadata[k] = json!(v);
            }
        }
    }
    if let Some(e) = &summary.evidence {
        metadata["evidence"] = json!(e.location);
        metadata["bundleDigest"] = json!(e.bundle_digest);
    }
    json!({
        "issueId": key,
        "url": attachment_url(ctx),
        "title": cut(&text::title(ctx, summary), 250),
        "subtitle": cut(&text::short(ctx, summary), 250),
        "metadata": metadata,
    })
}

impl<'a> Linear<'a> {
    pub fn new(client: &'a Client, creds: &'a LinearCredentials) -> Self {
        Linear { client, creds }
    }

    pub fn link(&self, key: &str, ctx: &ChangeContext, summary: &RunSummary) -> LinkResult {
        let base = LinkResult {
            tracker: Tracker::Linear,
            ticket: key.to_owned(),
            action: "attachment".into(),
            status: LinkStatus::Upserted,
            message: None,
        };
        if !text::is_http_url(&ctx.pr_url) {
            return LinkResult {
                status: LinkStatus::Skipped,
                message: Some("no PR URL to attach".into()),
                ..base
            };
        }
        match self.attach(key, ctx, summary) {
            Ok(()) => base,
            Err(m) => LinkResult {
                status: LinkStatus::Failed,
                message: Some(m),
                ..base
            },
        }
    }

    fn attach(&self, key: &str, ctx: &ChangeContext, summary: &RunSummary) -> Result<(), String> {
        let key_value = self.creds.api_key.expose().trim();
        // Personal API keys go bare; OAuth access tokens need "Bearer".
        let auth = if key_value.starts_with("lin_oauth_") {
            format!("Bearer {key_value}")
        } else {
            key_value.to_owned()
        };
        let body = json!({
            "query": ATTACHMENT_MUTATION,
            "operationName": "ControlgateAttachment",
            "variables": { "input": attachment_input(key, ctx, summary) },
        });
        let resp = self
            .client
            .post(&self.creds.api_url)
            .header("Authorization", auth)
            .header("Accept", "application/json")
            .json(&body)
            .send()
            .map_err(|e| http::transport("Linear", &e))?;
        let (status, text) = http::read(resp);
        let v: Option<Value> = serde_json::from_str(&text).ok();
        if let Some(errors) = v.as_ref().and_then(|v| v["errors"].as_array())
            && !errors.is_empty()
        {
            let msgs: Vec<String> = errors
                .iter()
                .map(|e| {
                    let user = e["extensions"]["userPresentableMessage"].as_str();
                    let msg = e["message"].as_str().unwrap_or("unknown error");
                    match user {
                        Some(u) if u != msg => format!("{msg} ({u})"),
                        _ => msg.to_owned(),
                    }
                })
                .collect();
            return Err(format!(
                "Linear answered {}: {}",
                status_text(status),
                msgs.join("; ")
            ));
        }
        if status != 200 {
            return Err(format!(
                "Linear answered {}{}",
                status_text(status),
                if status == 401 || status == 400 && text.contains("auth") {
                    " (check the Linear API key)"
                } else {
                    ""
                }
            ));
        }
        match v
            .as_ref()
            .map(|v| &v["data"]["attachmentCreate"]["success"])
        {
            Some(Value::Bool(true)) => Ok(()),
            _ => Err(format!(
                "Linear did not confirm the attachment: {}",
                cut(&text, 300)
            )),
        }
    }
}
