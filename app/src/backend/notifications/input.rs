//! Parse, don't validate: what a CRM system sends to ingestion becomes these
//! types or a clear error.

use std::collections::BTreeSet;

use crate::backend::{Error, Result};
use crate::protocol::{IngestNotification, NotificationKind, UserId};

pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_BODY_CHARS: usize = 2000;
pub const MAX_METADATA_BYTES: usize = 8 * 1024;
pub const MAX_LINK_CHARS: usize = 2048;
pub const MAX_RECIPIENTS: usize = 1000;
pub const MAX_IDEMPOTENCY_KEY_CHARS: usize = 255;

/// An ingestion request that passed every check but the recipients' organisation.
#[derive(Debug, Clone)]
pub struct Ingestion {
    pub kind: NotificationKind,
    pub title: String,
    pub body: String,
    /// A JSON object, as compact text.
    pub metadata: String,
    pub link: Option<String>,
    pub actor_id: Option<UserId>,
    /// Unique, in the order first given.
    pub recipients: Vec<UserId>,
}

impl Ingestion {
    pub fn parse(request: IngestNotification) -> Result<Ingestion> {
        let kind = NotificationKind::parse(request.kind.trim()).ok_or_else(|| {
            Error::UnknownNotificationKind(request.kind.chars().take(64).collect())
        })?;
        let title = text("title", &request.title, MAX_TITLE_CHARS, false)?;
        let body = text("body", &request.body, MAX_BODY_CHARS, true)?;
        let metadata = metadata(request.metadata)?;
        let link = request.link.as_deref().map(link).transpose()?;
        let mut seen = BTreeSet::new();
        let recipients: Vec<UserId> = request
            .recipient_id
            .into_iter()
            .chain(request.recipient_ids)
            .filter(|id| seen.insert(*id))
            .collect();
        if recipients.is_empty() {
            return Err(Error::InvalidInput(
                "Name a recipient: recipientId, or recipientIds.".to_owned(),
            ));
        }
        if recipients.len() > MAX_RECIPIENTS {
            return Err(Error::InvalidInput(format!(
                "At most {MAX_RECIPIENTS} recipients per request."
            )));
        }
        Ok(Ingestion {
            kind,
            title,
            body,
            metadata,
            link,
            actor_id: request.actor_id,
            recipients,
        })
    }
}

/// Trimmed text of at most `max` characters, without control characters
/// other than newlines (in bodies).
fn text(field: &str, raw: &str, max: usize, may_be_empty: bool) -> Result<String> {
    let trimmed = raw.trim();
    if trimmed.is_empty() && !may_be_empty {
        return Err(Error::InvalidInput(format!("{field} is required.")));
    }
    if trimmed.chars().count() > max {
        return Err(Error::InvalidInput(format!(
            "{field} is at most {max} characters."
        )));
    }
    if trimmed.chars().any(|c| c.is_control() && c != '\n') {
        return Err(Error::InvalidInput(format!(
            "{field} cannot contain control characters."
        )));
    }
    Ok(trimmed.to_owned())
}

/// A JSON object of at most 8 KiB, as compact text. Absent is `{}`.
fn metadata(value: Option<serde_json::Value>) -> Result<String> {
    let value = value.unwrap_or_else(|| serde_json::json!({}));
    if !value.is_object() {
        return Err(Error::InvalidInput(
            "metadata must be a JSON object.".to_owned(),
        ));
    }
    let text = value.to_string();
    if text.len() > MAX_METADATA_BYTES {
        return Err(Error::MetadataTooLarge {
            max_bytes: MAX_METADATA_BYTES,
        });
    }
    Ok(text)
}

/// A path inside the app (`/c/12`, not `//elsewhere`), or an http(s) URL.
pub fn link(raw: &str) -> Result<String> {
    let link = raw.trim();
    let invalid = || {
        Error::InvalidInput(
            "link must be a path inside the app (/c/12) or an http(s) URL.".to_owned(),
        )
    };
    if link.is_empty() || link.chars().count() > MAX_LINK_CHARS {
        return Err(invalid());
    }
    if link
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
    {
        return Err(invalid());
    }
    let is_app_path = link.starts_with('/') && !link.starts_with("//");
    let lower = link.to_ascii_lowercase();
    let is_web_url = ["https://", "http://"]
        .iter()
        .any(|scheme| lower.starts_with(scheme) && link.len() > scheme.len());
    if is_app_path || is_web_url {
        Ok(link.to_owned())
    } else {
        Err(invalid())
    }
}

/// An `Idempotency-Key`: 1 to 255 visible ASCII characters.
pub fn idempotency_key(raw: &str) -> Result<String> {
    let key = raw.trim();
    if key.is_empty()
        || key.len() > MAX_IDEMPOTENCY_KEY_CHARS
        || !key.chars().all(|c| c.is_ascii_graphic())
    {
        return Err(Error::InvalidInput(format!(
            "Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY_CHARS} visible ASCII characters."
        )));
    }
    Ok(key.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> IngestNotification {
        IngestNotification {
            kind: "LEAD_ASSIGNED".into(),
            title: "Lead assigned: Initech".into(),
            recipient_id: Some(UserId(1)),
            ..Default::default()
        }
    }

    #[test]
    fn a_well_formed_request_parses_with_empty_metadata() {
        let parsed = Ingestion::parse(request()).unwrap();
        assert_eq!(parsed.kind, NotificationKind::LeadAssigned);
        assert_eq!(parsed.metadata, "{}");
        assert_eq!(parsed.recipients, vec![UserId(1)]);
    }

    #[test]
    fn an_unknown_kind_is_rejected_by_name() {
        let error = Ingestion::parse(IngestNotification {
            kind: "LEAD_EATEN".into(),
            ..request()
        })
        .unwrap_err();
        assert!(matches!(error, Error::UnknownNotificationKind(kind) if kind == "LEAD_EATEN"));
    }

    #[test]
    fn metadata_over_8_kib_or_not_an_object_is_rejected() {
        let big = serde_json::json!({ "blob": "x".repeat(MAX_METADATA_BYTES) });
        let error = Ingestion::parse(IngestNotification {
            metadata: Some(big),
            ..request()
        })
        .unwrap_err();
        assert!(matches!(error, Error::MetadataTooLarge { .. }));
        let error = Ingestion::parse(IngestNotification {
            metadata: Some(serde_json::json!([1, 2])),
            ..request()
        })
        .unwrap_err();
        assert!(matches!(error, Error::InvalidInput(_)));
    }

    #[test]
    fn recipients_are_deduplicated_and_required() {
        let parsed = Ingestion::parse(IngestNotification {
            recipient_ids: vec![UserId(2), UserId(1), UserId(2)],
            ..request()
        })
        .unwrap();
        assert_eq!(parsed.recipients, vec![UserId(1), UserId(2)]);
        let error = Ingestion::parse(IngestNotification {
            recipient_id: None,
            ..request()
        })
        .unwrap_err();
        assert!(matches!(error, Error::InvalidInput(_)));
    }

    #[test]
    fn links_are_app_paths_or_web_urls_only() {
        for good in [
            "/c/12",
            "/c/12?m=40",
            "https://crm.example.com/leads/7",
            "HTTP://x.y",
        ] {
            assert!(link(good).is_ok(), "{good}");
        }
        for bad in [
            "javascript:alert(1)",
            "//evil.example.com",
            "data:text/html,x",
            "leads/7",
            "https://",
            "/a b",
            "/\\evil",
        ] {
            assert!(link(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn idempotency_keys_are_short_visible_ascii() {
        assert!(idempotency_key("crm-event-42").is_ok());
        assert!(idempotency_key("").is_err());
        assert!(idempotency_key("a b").is_err());
        assert!(idempotency_key(&"k".repeat(256)).is_err());
    }
}
