//! Lists as one JSON parameter, expanded in SQL.
//!
//! A statement with a list of values could use one placeholder per value, but
//! then its text changes with the length of the list, and SQLite parses it
//! anew every time: for the writer's batch statements, parsing cost more than
//! running them. So a list travels as one JSON array parameter and the
//! statement expands it, with `json_each` on SQLite and `jsonb_*` functions on
//! PostgreSQL. The text is fixed, every statement is prepared once per
//! connection, and the two engines differ only in the expansion written here.

use serde::Serialize;
use sqlx::AnyConnection;

use super::Engine;

/// The engine behind a connection.
pub fn engine_of(conn: &AnyConnection) -> Engine {
    if conn.backend_name().eq_ignore_ascii_case("postgresql") {
        Engine::Postgres
    } else {
        Engine::Sqlite
    }
}

/// A column of a JSON record.
#[derive(Clone, Copy, Debug)]
pub enum Column {
    Int(&'static str),
    Text(&'static str),
}

/// `(SELECT …)` of the integers in the JSON array parameter `$param`, for
/// `WHERE id IN {ids(…)}`.
pub fn ids(engine: Engine, param: usize) -> String {
    match engine {
        Engine::Sqlite => format!("(SELECT value FROM json_each(${param}))"),
        Engine::Postgres => {
            format!("(SELECT value::bigint FROM jsonb_array_elements_text(${param}::jsonb))")
        }
    }
}

/// `(SELECT …)` of the strings in the JSON array parameter `$param`.
pub fn texts(engine: Engine, param: usize) -> String {
    match engine {
        Engine::Sqlite => format!("(SELECT value FROM json_each(${param}))"),
        Engine::Postgres => {
            format!("(SELECT value FROM jsonb_array_elements_text(${param}::jsonb))")
        }
    }
}

/// A derived table `alias` with `columns`, one row per object of the JSON
/// array parameter `$param`. Rows come in no particular order.
pub fn records(engine: Engine, param: usize, alias: &str, columns: &[Column]) -> String {
    match engine {
        Engine::Sqlite => {
            let fields: Vec<String> = columns
                .iter()
                .map(|column| {
                    let name = column.name();
                    format!("j.value ->> '{name}' AS {name}")
                })
                .collect();
            format!(
                "(SELECT {} FROM json_each(${param}) AS j) AS {alias}",
                fields.join(", ")
            )
        }
        Engine::Postgres => {
            let fields: Vec<String> = columns
                .iter()
                .map(|column| match column {
                    Column::Int(name) => format!("{name} bigint"),
                    Column::Text(name) => format!("{name} text"),
                })
                .collect();
            format!(
                "jsonb_to_recordset(${param}::jsonb) AS {alias}({})",
                fields.join(", ")
            )
        }
    }
}

impl Column {
    fn name(self) -> &'static str {
        match self {
            Column::Int(name) | Column::Text(name) => name,
        }
    }
}

/// Wraps a row query into a query of one value: a JSON array with one object
/// per row, holding `columns` (those in `json_columns` already hold JSON, and
/// are embedded as such), in the order `order_by` gives over the inner
/// query's columns (aliased `t`).
///
/// A driver converts a result value by value; a list of 200 rows of 20
/// columns spent longer in that than in SQLite. One JSON value is decoded
/// by serde in one go.
pub fn json_document(
    engine: Engine,
    inner: &str,
    columns: &[&str],
    json_columns: &[&str],
    order_by: &str,
) -> String {
    let pairs: Vec<String> = columns
        .iter()
        .map(|c| match engine {
            Engine::Sqlite if json_columns.contains(c) => format!("'{c}', json(t.{c})"),
            _ => format!("'{c}', t.{c}"),
        })
        .collect();
    match engine {
        Engine::Sqlite => format!(
            "SELECT json_group_array(json_object({}) ORDER BY {order_by}) FROM ({inner}) AS t",
            pairs.join(", ")
        ),
        Engine::Postgres => format!(
            "SELECT COALESCE(json_agg(json_build_object({}) ORDER BY {order_by}), '[]'::json)::text FROM ({inner}) AS t",
            pairs.join(", ")
        ),
    }
}

/// An aggregate of `items` (a JSON array per row) into a JSON array, ordered
/// by `order_by`, for a scalar subquery; NULL when there are no rows.
pub fn json_array_agg(engine: Engine, items: &[&str], order_by: &str) -> String {
    match engine {
        Engine::Sqlite => format!(
            "json_group_array(json_array({}) ORDER BY {order_by})",
            items.join(", ")
        ),
        Engine::Postgres => format!(
            "json_agg(json_build_array({}) ORDER BY {order_by})",
            items.join(", ")
        ),
    }
}

/// Decodes the rows of a [`json_document`] answer.
pub fn decode_document<T: serde::de::DeserializeOwned>(
    document: Option<String>,
) -> sqlx::Result<Vec<T>> {
    match document.as_deref() {
        None | Some("") => Ok(Vec::new()),
        Some(text) => serde_json::from_str(text).map_err(|e| sqlx::Error::Decode(Box::new(e))),
    }
}

/// The JSON text of a list, to bind as one parameter.
pub fn json<T: Serialize>(values: &[T]) -> String {
    serde_json::to_string(values).unwrap_or_else(|_| "[]".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_lists_expand_per_engine() {
        assert_eq!(ids(Engine::Sqlite, 2), "(SELECT value FROM json_each($2))");
        assert!(ids(Engine::Postgres, 1).contains("jsonb_array_elements_text($1::jsonb)"));
    }

    #[test]
    fn documents_aggregate_rows_into_one_json_array() {
        let sqlite = json_document(
            Engine::Sqlite,
            "SELECT 1 AS a, '[]' AS m",
            &["a", "m"],
            &["m"],
            "t.a",
        );
        assert_eq!(
            sqlite,
            "SELECT json_group_array(json_object('a', t.a, 'm', json(t.m)) ORDER BY t.a) FROM (SELECT 1 AS a, '[]' AS m) AS t"
        );
        let postgres = json_document(Engine::Postgres, "SELECT 1 AS a", &["a"], &[], "t.a");
        assert!(postgres.starts_with(
            "SELECT COALESCE(json_agg(json_build_object('a', t.a) ORDER BY t.a), '[]'::json)::text"
        ));
    }

    #[test]
    fn records_name_their_columns_on_both_engines() {
        let columns = [Column::Int("id"), Column::Text("body")];
        let sqlite = records(Engine::Sqlite, 1, "v", &columns);
        assert!(
            sqlite.contains("j.value ->> 'id' AS id") && sqlite.ends_with("AS v"),
            "{sqlite}"
        );
        let postgres = records(Engine::Postgres, 1, "v", &columns);
        assert!(
            postgres.ends_with("AS v(id bigint, body text)"),
            "{postgres}"
        );
    }
}
