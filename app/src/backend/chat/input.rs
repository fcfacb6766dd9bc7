//! Parse, don't validate: wire input becomes these types or a clear error.

use crate::backend::{Error, Result};

/// A message body: 1 to 4,000 characters after trimming (empty only as the
/// caption of an attachment), with no control characters other than newlines
/// and tabs, and no bidirectional overrides that could disguise text. Its
/// `:shortcode:`s are stored as the emoji they name
/// ([`super::emoji::replace_shortcodes`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageBody(String);

pub const MAX_BODY_CHARS: usize = 4000;
/// Group and broadcast titles.
pub const MAX_TITLE_CHARS: usize = 100;

impl MessageBody {
    pub fn parse(raw: &str) -> Result<MessageBody> {
        let body = Self::parse_allowing_empty(raw)?;
        if body.0.is_empty() {
            return Err(Error::EmptyMessage);
        }
        Ok(body)
    }

    /// For captions: an attachment may be sent without text.
    pub fn parse_allowing_empty(raw: &str) -> Result<MessageBody> {
        let normalized = raw.replace("\r\n", "\n");
        let trimmed = normalized.trim();
        if trimmed.chars().count() > MAX_BODY_CHARS {
            return Err(Error::MessageTooLong {
                max_chars: MAX_BODY_CHARS,
            });
        }
        if trimmed
            .chars()
            .any(|c| is_forbidden(c) && c != '\n' && c != '\t')
        {
            return Err(Error::InvalidInput(
                "Messages cannot contain control characters.".to_owned(),
            ));
        }
        Ok(MessageBody(
            super::emoji::replace_shortcodes(trimmed).into_owned(),
        ))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// Control characters, and the bidirectional overrides and isolates that can
/// make text display differently from what it is.
fn is_forbidden(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// A group or broadcast title: 1 to 100 characters, no control characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Title(String);

impl Title {
    pub fn parse(raw: &str) -> Result<Title> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(Error::InvalidInput("A title is required.".to_owned()));
        }
        if trimmed.chars().count() > MAX_TITLE_CHARS {
            return Err(Error::InvalidInput(format!(
                "Titles are at most {MAX_TITLE_CHARS} characters."
            )));
        }
        if trimmed.chars().any(is_forbidden) {
            return Err(Error::InvalidInput(
                "Titles cannot contain control characters.".to_owned(),
            ));
        }
        Ok(Title(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The client's id for a send: a UUID, stored in its canonical lower-case form.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ClientMsgId(String);

impl ClientMsgId {
    pub fn parse(raw: &str) -> Result<ClientMsgId> {
        uuid::Uuid::parse_str(raw.trim())
            .map(|id| ClientMsgId(id.hyphenated().to_string()))
            .map_err(|_| Error::InvalidInput("clientMsgId must be a UUID.".to_owned()))
    }

    /// The sender's id if they gave one, else a fresh one (see [`Self::generate`]).
    pub fn parse_or_generate(raw: Option<&str>) -> Result<ClientMsgId> {
        raw.map_or_else(|| Ok(ClientMsgId::generate()), ClientMsgId::parse)
    }

    /// For senders that did not supply one (plain REST clients): a fresh id,
    /// which makes that send not idempotent. Version 7, like the web
    /// client's (see `store::new_client_msg_id`).
    pub fn generate() -> ClientMsgId {
        ClientMsgId(uuid::Uuid::now_v7().hyphenated().to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A reaction: one emoji that Unicode lists, with or without a skin tone,
/// kept in its fully qualified form so that "❤" and "❤️" are one reaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Emoji(String);

impl Emoji {
    pub fn parse(raw: &str) -> Result<Emoji> {
        emojis::get(raw.trim())
            .map(|emoji| Emoji(emoji.as_str().to_owned()))
            .ok_or_else(|| Error::InvalidInput("A reaction must be a single emoji.".to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A page size: 1 to 100, default 50.
pub fn page_limit(requested: Option<i64>) -> i64 {
    requested.unwrap_or(50).clamp(1, 100)
}

/// The most messages a thread opens with, to reach its first unread one.
pub const MAX_OPENING_PAGE: i64 = 200;

/// How many messages a thread opens with: the newest page, or more when
/// its first unread message is further back, so that the thread can open at
/// the "New messages" line with a few read messages above it, up to
/// [`MAX_OPENING_PAGE`]. `unread_after` is the seq the unread ones follow.
pub fn opening_page_limit(newest_seq: i64, unread_after: i64) -> i64 {
    const CONTEXT: i64 = 5;
    (newest_seq - unread_after + CONTEXT).clamp(page_limit(None), MAX_OPENING_PAGE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_is_trimmed() {
        assert_eq!(MessageBody::parse("  hello\n").unwrap().as_str(), "hello");
    }

    #[test]
    fn an_empty_body_is_rejected() {
        assert!(matches!(
            MessageBody::parse(" \n\t "),
            Err(Error::EmptyMessage)
        ));
    }

    #[test]
    fn a_body_of_exactly_the_limit_is_accepted() {
        let body = "é".repeat(MAX_BODY_CHARS);
        assert!(MessageBody::parse(&body).is_ok());
    }

    #[test]
    fn a_body_longer_than_the_limit_is_rejected() {
        let body = "a".repeat(MAX_BODY_CHARS + 1);
        assert!(matches!(
            MessageBody::parse(&body),
            Err(Error::MessageTooLong { .. })
        ));
    }

    #[test]
    fn newlines_and_tabs_are_kept_and_crlf_becomes_lf() {
        assert_eq!(MessageBody::parse("a\r\n\tb").unwrap().as_str(), "a\n\tb");
    }

    #[test]
    fn control_characters_are_rejected() {
        for bad in ["a\u{0}b", "a\u{7}b", "a\u{1b}[31mb", "a\u{7f}"] {
            assert!(
                matches!(MessageBody::parse(bad), Err(Error::InvalidInput(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn bidirectional_overrides_are_rejected() {
        assert!(MessageBody::parse("invoice\u{202E}fdp.exe").is_err());
    }

    #[test]
    fn shortcodes_are_stored_as_emoji() {
        assert_eq!(
            MessageBody::parse(" deal :tada: ").unwrap().as_str(),
            "deal 🎉"
        );
    }

    #[test]
    fn a_caption_may_be_empty() {
        assert_eq!(
            MessageBody::parse_allowing_empty("  ").unwrap().as_str(),
            ""
        );
    }

    #[test]
    fn a_client_msg_id_must_be_a_uuid_and_is_canonicalised() {
        let id = ClientMsgId::parse("6F9619FF-8B86-D011-B42D-00C04FC964FF").unwrap();
        assert_eq!(id.as_str(), "6f9619ff-8b86-d011-b42d-00c04fc964ff");
        assert!(ClientMsgId::parse("not-a-uuid").is_err());
    }

    #[test]
    fn emoji_are_accepted_and_words_are_not() {
        for ok in ["👍", "❤️", "👍🏽", "🙏", "🇫🇷", "🧑🏿‍🤝‍🧑🏻", "🫠"]
        {
            assert_eq!(Emoji::parse(ok).unwrap().as_str(), ok);
        }
        for bad in [
            "",
            "like",
            "a",
            " ",
            "👍 x",
            "👍👍",
            "中",
            "é",
            "\u{0}",
            "\u{1F3FD}x",
        ] {
            assert!(Emoji::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn an_emoji_without_its_variation_selector_is_the_same_reaction() {
        assert_eq!(Emoji::parse("❤").unwrap(), Emoji::parse("❤️").unwrap());
        assert_eq!(Emoji::parse(" ❤ ").unwrap().as_str(), "❤\u{fe0f}");
    }

    #[test]
    fn titles_are_trimmed_and_bounded() {
        assert_eq!(
            Title::parse("  Sales team ").unwrap().as_str(),
            "Sales team"
        );
        assert!(Title::parse("   ").is_err());
        assert!(Title::parse(&"x".repeat(MAX_TITLE_CHARS + 1)).is_err());
    }

    #[test]
    fn page_limits_are_clamped() {
        assert_eq!(page_limit(None), 50);
        assert_eq!(page_limit(Some(0)), 1);
        assert_eq!(page_limit(Some(1000)), 100);
    }

    #[test]
    fn a_thread_opens_with_its_first_unread_message_and_a_few_read_ones_above() {
        assert_eq!(
            opening_page_limit(300, 300),
            50,
            "all read: the newest page"
        );
        assert_eq!(opening_page_limit(300, 280), 50, "20 unread fit in it");
        assert_eq!(opening_page_limit(300, 200), 105, "100 unread and 5 above");
        assert_eq!(opening_page_limit(300, 0), MAX_OPENING_PAGE, "never more");
    }
}
