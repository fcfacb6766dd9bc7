//! Full-text search over the messages a user can see: SQLite FTS5 or
//! PostgreSQL `tsvector`, behind one function. Deleted messages never match:
//! deleting erases the text, and the query also excludes tombstones.

use sqlx::FromRow;

use crate::backend::db::Engine;
use crate::backend::{Backend, Result};
use crate::protocol::{ConversationId, Me, MessageId, SearchHit, SnippetPart, UserId};

/// Marks a match inside a snippet. Control characters never occur in stored
/// messages (they are rejected), so these cannot collide with text.
const HIT_START: char = '\u{2}';
const HIT_END: char = '\u{3}';
const MAX_HITS: i64 = 50;

#[derive(FromRow)]
struct HitRow {
    id: MessageId,
    conversation_id: ConversationId,
    seq: i64,
    sender_id: UserId,
    sender_name: String,
    created_at: i64,
    snippet: String,
    kind: String,
    title: Option<String>,
    other_name: Option<String>,
}

/// The words of a query, without operators: search is for people, not syntax.
fn words(query: &str) -> Vec<String> {
    query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(8)
        .map(str::to_lowercase)
        .collect()
}

/// `"alpha" "beta"*`: every word must occur, the last one as a prefix.
fn fts5_query(words: &[String]) -> String {
    let last = words.len().saturating_sub(1);
    words
        .iter()
        .enumerate()
        .map(|(i, w)| {
            format!(
                "\"{}\"{}",
                w.replace('"', "\"\""),
                if i == last { "*" } else { "" }
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `'alpha' & 'beta':*` for `to_tsquery('simple', …)`.
fn tsquery(words: &[String]) -> String {
    let last = words.len().saturating_sub(1);
    words
        .iter()
        .enumerate()
        .map(|(i, w)| {
            format!(
                "'{}'{}",
                w.replace('\'', "''"),
                if i == last { ":*" } else { "" }
            )
        })
        .collect::<Vec<_>>()
        .join(" & ")
}

fn snippet_parts(snippet: &str) -> Vec<SnippetPart> {
    let mut parts = Vec::new();
    let mut highlight = false;
    let mut current = String::new();
    for c in snippet.chars() {
        if c == HIT_START || c == HIT_END {
            if !current.is_empty() {
                parts.push(SnippetPart {
                    text: std::mem::take(&mut current),
                    highlight,
                });
            }
            highlight = c == HIT_START;
        } else if c == '\n' {
            current.push(' ');
        } else {
            current.push(c);
        }
    }
    if !current.is_empty() {
        parts.push(SnippetPart {
            text: current,
            highlight,
        });
    }
    parts
}

const HIT_COLUMNS: &str =
    "m.id, m.conversation_id, m.seq, m.sender_id, su.display_name AS sender_name,
    m.created_at, c.kind, c.title,
    (SELECT ou.display_name FROM participants op JOIN users ou ON ou.id = op.user_id
     WHERE op.conversation_id = c.id AND op.user_id <> $2 LIMIT 1) AS other_name";

/// Messages indexed per transaction when the SQLite index catches up: about
/// ten milliseconds of work, the most a send waits behind it.
pub(crate) const INDEX_CHUNK: i64 = 1000;

/// Brings SQLite's full-text index up to the newest message, in the caller's
/// write transaction, at most [`INDEX_CHUNK`] messages at a time; returns how
/// many it indexed. PostgreSQL maintains its index itself: nothing to do.
pub(crate) async fn index_pending(
    conn: &mut sqlx::AnyConnection,
    engine: Engine,
) -> sqlx::Result<i64> {
    if engine != Engine::Sqlite {
        return Ok(0);
    }
    let from: i64 = sqlx::query_scalar("SELECT indexed_up_to FROM search_progress WHERE id = 1")
        .fetch_one(&mut *conn)
        .await?;
    let to: Option<i64> = sqlx::query_scalar(
        "SELECT MAX(id) FROM (SELECT id FROM messages WHERE id > $1 ORDER BY id LIMIT $2) AS pending",
    )
    .bind(from)
    .bind(INDEX_CHUNK)
    .fetch_one(&mut *conn)
    .await?;
    let Some(to) = to else { return Ok(0) };
    let indexed = sqlx::query(
        "INSERT INTO messages_fts (rowid, body) SELECT id, body FROM messages WHERE id > $1 AND id <= $2",
    )
    .bind(from)
    .bind(to)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    sqlx::query("UPDATE search_progress SET indexed_up_to = $1 WHERE id = 1")
        .bind(to)
        .execute(conn)
        .await?;
    Ok(indexed as i64)
}

impl Backend {
    /// Messages matching every word of `query` (the last as a prefix), newest
    /// first, from the caller's conversations only. On SQLite the index
    /// trails sends by up to about a second (see `chat::writer`).
    pub async fn search(&self, me: &Me, query: &str) -> Result<Vec<SearchHit>> {
        let words = words(query);
        if words.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<HitRow> = match self.db.engine() {
            Engine::Sqlite => {
                sqlx::query_as(&format!(
                    "SELECT {HIT_COLUMNS},
                            snippet(messages_fts, 0, char(2), char(3), '…', 16) AS snippet
                     FROM messages_fts
                     JOIN messages m ON m.id = messages_fts.rowid
                     JOIN participants p ON p.conversation_id = m.conversation_id AND p.user_id = $2
                     JOIN conversations c ON c.id = m.conversation_id
                     JOIN users su ON su.id = m.sender_id
                     WHERE messages_fts MATCH $1 AND m.deleted_at IS NULL AND m.kind <> 'system'
                     ORDER BY m.id DESC LIMIT $3"
                ))
                .bind(fts5_query(&words))
                .bind(me.id)
                .bind(MAX_HITS)
                .fetch_all(self.db.pool())
                .await?
            }
            Engine::Postgres => {
                sqlx::query_as(&format!(
                    "SELECT {HIT_COLUMNS},
                            ts_headline('simple', m.body, to_tsquery('simple', $1),
                                        'StartSel=' || chr(2) || ', StopSel=' || chr(3) || ', MaxWords=18, MinWords=6, MaxFragments=1') AS snippet
                     FROM messages m
                     JOIN participants p ON p.conversation_id = m.conversation_id AND p.user_id = $2
                     JOIN conversations c ON c.id = m.conversation_id
                     JOIN users su ON su.id = m.sender_id
                     WHERE to_tsvector('simple', m.body) @@ to_tsquery('simple', $1)
                       AND m.deleted_at IS NULL AND m.kind <> 'system'
                     ORDER BY m.id DESC LIMIT $3"
                ))
                .bind(tsquery(&words))
                .bind(me.id)
                .bind(MAX_HITS)
                .fetch_all(self.db.pool())
                .await?
            }
        };
        Ok(rows
            .into_iter()
            .map(|row| SearchHit {
                message_id: row.id,
                conversation_id: row.conversation_id,
                conversation_title: if row.kind == "direct" {
                    row.other_name.unwrap_or_default()
                } else {
                    row.title.unwrap_or_default()
                },
                seq: row.seq,
                sender_id: row.sender_id,
                sender_name: row.sender_name,
                created_at: row.created_at,
                snippet: snippet_parts(&row.snippet),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_syntax_is_taken_as_words() {
        assert_eq!(
            words("\"quarterly\" OR re*port -x"),
            vec!["quarterly", "or", "re", "port", "x"]
        );
        assert!(words("*** \"\" --").is_empty());
    }

    #[test]
    fn every_word_must_match_and_the_last_is_a_prefix() {
        let w = words("invoice acm");
        assert_eq!(fts5_query(&w), "\"invoice\" \"acm\"*");
        assert_eq!(tsquery(&w), "'invoice' & 'acm':*");
    }

    #[test]
    fn snippets_split_into_highlighted_parts() {
        let parts = snippet_parts("the \u{2}invoice\u{3} for\nAcme");
        assert_eq!(
            parts,
            vec![
                SnippetPart {
                    text: "the ".into(),
                    highlight: false
                },
                SnippetPart {
                    text: "invoice".into(),
                    highlight: true
                },
                SnippetPart {
                    text: " for Acme".into(),
                    highlight: false
                },
            ]
        );
    }
}
