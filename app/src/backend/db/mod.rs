//! Storage: one pool for either engine, chosen by the URL, and one module of
//! storage functions per aggregate.
//!
//! Queries are written once, in the dialect both engines share: `$1`
//! placeholders, i64 ids, unix-millisecond i64 timestamps and JSON as TEXT. The
//! few engine-specific parts (pragmas, full-text search, LISTEN/NOTIFY) sit behind
//! small functions that match on [`Engine`].

pub mod api_keys;
pub mod attachments;
pub mod conversations;
pub mod login_throttle;
pub mod messages;
pub mod notifications;
pub mod orgs;
pub mod participants;
pub(crate) mod sql;
pub mod sqlite_writer;
pub mod users;

#[cfg(any(test, feature = "test-support"))]
pub mod testing;

use std::time::Duration;

use anyhow::Context;
use sqlx::any::AnyPoolOptions;
use sqlx::migrate::Migrator;
use sqlx::{Any, AnyConnection, AnyPool, Executor, Transaction};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/postgres");

/// Every SQLite connection gets these. WAL lets readers run beside the one
/// writer; `synchronous=FULL` makes a commit durable before it returns, which the
/// delivery guarantees need ("durable before acknowledged").
pub(crate) const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL;
PRAGMA synchronous = FULL;
PRAGMA foreign_keys = ON;
PRAGMA busy_timeout = 5000;
PRAGMA temp_store = MEMORY;
PRAGMA cache_size = -16000;
PRAGMA mmap_size = 268435456;";

/// The writer's connection checkpoints only when the WAL has grown to
/// 10,000 pages (40 MiB), which the checkpointer never lets happen while it runs.
pub(crate) const WRITER_PRAGMAS: &str = "PRAGMA wal_autocheckpoint = 10000;";

/// How often the checkpointer copies the WAL into the database file (SQLite).
const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(200);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    pub fn from_url(url: &str) -> anyhow::Result<Engine> {
        if url.starts_with("sqlite:") {
            Ok(Engine::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Engine::Postgres)
        } else {
            anyhow::bail!("DATABASE_URL must start with sqlite: or postgres://")
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Engine::Sqlite => "sqlite",
            Engine::Postgres => "postgres",
        }
    }
}

/// A handle on the database. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    engine: Engine,
    url: std::sync::Arc<str>,
}

impl Db {
    /// Connects to the database the URL names. A SQLite file and its directory
    /// are created when missing.
    pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<Db> {
        sqlx::any::install_default_drivers();
        let engine = Engine::from_url(url)?;
        let url = match engine {
            Engine::Sqlite => prepare_sqlite_url(url)?,
            Engine::Postgres => url.to_owned(),
        };
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections.max(1))
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn: &mut AnyConnection, _meta| {
                Box::pin(async move {
                    if engine == Engine::Sqlite {
                        conn.execute(SQLITE_PRAGMAS).await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await
            .with_context(|| format!("Failed to connect to the {} database", engine.name()))?;
        Ok(Db {
            pool,
            engine,
            url: url.into(),
        })
    }

    /// Applies the engine's migrations. Running them again is a no-op.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        let migrator = match self.engine {
            Engine::Sqlite => &SQLITE_MIGRATIONS,
            Engine::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator
            .run(&self.pool)
            .await
            .context("Failed to run database migrations")
    }

    pub fn engine(&self) -> Engine {
        self.engine
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// The URL the pool connects to (for connections of their own, such as
    /// the bus's LISTEN connection).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Begins a transaction that will write. On SQLite it takes the write lock
    /// up front (`BEGIN IMMEDIATE`): a deferred transaction that reads and then
    /// writes can fail with SQLITE_BUSY instead of waiting its turn.
    pub async fn begin_write(&self) -> sqlx::Result<Transaction<'static, Any>> {
        match self.engine {
            Engine::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Engine::Postgres => self.pool.begin().await,
        }
    }

    /// A connection of its own, outside the pool, for a task that writes
    /// continuously on a thread of its own (the chat writer). Connections are
    /// tied to the runtime that opens them, so it is opened there.
    pub async fn dedicated_connection(&self) -> sqlx::Result<AnyConnection> {
        use sqlx::Connection;
        let mut conn = AnyConnection::connect(&self.url).await?;
        if self.engine == Engine::Sqlite {
            conn.execute(SQLITE_PRAGMAS).await?;
        }
        Ok(conn)
    }

    /// The connection of the task that does nearly all writing (the chat
    /// writer). On SQLite it leaves checkpoints to [`Db::checkpoint_continuously`]:
    /// otherwise every thousandth page would make one of its commits copy the
    /// whole WAL into the database file and fsync it, several milliseconds
    /// that the messages of that batch would wait. The limit it keeps is a
    /// safety net for when the checkpointer cannot run.
    pub async fn writer_connection(&self) -> sqlx::Result<AnyConnection> {
        let mut conn = self.dedicated_connection().await?;
        if self.engine == Engine::Sqlite {
            conn.execute(WRITER_PRAGMAS).await?;
        }
        Ok(conn)
    }

    /// SQLite: the chat writer's own connection, which it drives on its
    /// thread without sqlx (see [`sqlite_writer`]). Blocking: it opens a file.
    pub fn sqlite_writer_connection(&self) -> anyhow::Result<sqlite_writer::WriterConnection> {
        sqlite_writer::WriterConnection::open(&sqlite_writer::path_of_url(&self.url)?)
    }

    /// SQLite: copies committed WAL pages into the database file every
    /// [`CHECKPOINT_INTERVAL`], on a connection of its own, beside the writer
    /// rather than inside one of its commits. A passive checkpoint never
    /// waits for readers or the writer; the WAL starts over from its
    /// beginning once everything in it is copied. Runs until dropped; on
    /// PostgreSQL it returns at once.
    pub async fn checkpoint_continuously(self) {
        if self.engine != Engine::Sqlite {
            return;
        }
        let mut connection: Option<AnyConnection> = None;
        loop {
            tokio::time::sleep(CHECKPOINT_INTERVAL).await;
            if connection.is_none() {
                match self.dedicated_connection().await {
                    Ok(conn) => connection = Some(conn),
                    Err(error) => {
                        tracing::warn!(%error, "the checkpointer cannot reach the database");
                        continue;
                    }
                }
            }
            let Some(conn) = connection.as_mut() else {
                continue;
            };
            let started = std::time::Instant::now();
            match conn.execute("PRAGMA wal_checkpoint(PASSIVE)").await {
                Ok(_) => metrics::histogram!("crm_chat_checkpoint_seconds")
                    .record(started.elapsed().as_secs_f64()),
                Err(error) => {
                    tracing::warn!(%error, "a WAL checkpoint failed");
                    connection = None;
                }
            }
        }
    }

    /// Begins a write transaction on a connection of one's own (see [`Db::begin_write`]).
    pub async fn begin_write_on<'c>(
        &self,
        conn: &'c mut AnyConnection,
    ) -> sqlx::Result<Transaction<'c, Any>> {
        use sqlx::Connection;
        match self.engine {
            Engine::Sqlite => conn.begin_with("BEGIN IMMEDIATE").await,
            Engine::Postgres => conn.begin().await,
        }
    }

    /// True when the database answers a trivial query.
    pub async fn is_ready(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// The file and the query of a `sqlite:` URL (`sqlite://data/x.db?mode=rwc`
/// gives `data/x.db` and `mode=rwc`).
fn split_sqlite_url(url: &str) -> (&str, &str) {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    rest.split_once('?').unwrap_or((rest, ""))
}

/// Makes sure the SQLite file can be created: its directory exists and the
/// URL asks for read-write-create.
fn prepare_sqlite_url(url: &str) -> anyhow::Result<String> {
    let (path, query) = split_sqlite_url(url);
    let parent = std::path::Path::new(path)
        .parent()
        .filter(|p| !p.as_os_str().is_empty());
    if let Some(parent) = parent.filter(|_| path != ":memory:") {
        std::fs::create_dir_all(parent).with_context(|| {
            format!(
                "Failed to create the database directory {}",
                parent.display()
            )
        })?;
    }
    Ok(if query.is_empty() {
        format!("sqlite://{path}?mode=rwc")
    } else {
        url.to_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_engine_is_chosen_by_the_url() {
        assert_eq!(
            Engine::from_url("sqlite://data/x.db").unwrap(),
            Engine::Sqlite
        );
        assert_eq!(
            Engine::from_url("postgres://u@h/db").unwrap(),
            Engine::Postgres
        );
        assert_eq!(
            Engine::from_url("postgresql://u@h/db").unwrap(),
            Engine::Postgres
        );
        assert!(Engine::from_url("mysql://u@h/db").is_err());
    }

    #[tokio::test]
    async fn the_checkpointer_copies_what_the_writer_commits_into_the_database_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.db");
        let db = Db::connect(&format!("sqlite://{}", path.display()), 2)
            .await
            .unwrap();
        db.migrate().await.unwrap();
        // The pool's own connections checkpoint as usual; writing through the
        // writer's connection alone leaves the copying to the checkpointer.
        let mut writer = db.writer_connection().await.unwrap();
        let checkpointer = tokio::spawn(db.clone().checkpoint_continuously());
        for i in 0..50 {
            sqlx::query("INSERT INTO organizations (name, slug, created_at) VALUES ($1, $1, 0)")
                .bind(format!("org-{i}"))
                .execute(&mut writer)
                .await
                .unwrap();
        }
        // An immutable connection reads the database file and ignores the WAL.
        use sqlx::Connection;
        let in_file = || async {
            let mut file_only =
                AnyConnection::connect(&format!("sqlite://{}?immutable=true", path.display()))
                    .await
                    .unwrap();
            // Before the first checkpoint, the file may not hold the table yet.
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM organizations")
                .fetch_one(&mut file_only)
                .await
                .unwrap_or(0)
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while in_file().await < 50 {
            assert!(
                std::time::Instant::now() < deadline,
                "the committed rows never reached the database file"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        checkpointer.abort();
    }

    #[test]
    fn a_sqlite_url_without_options_asks_for_create() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/nested/x.db", dir.path().display());
        let prepared = prepare_sqlite_url(&url).unwrap();
        assert!(prepared.ends_with("/nested/x.db?mode=rwc"), "{prepared}");
        assert!(dir.path().join("nested").is_dir());
    }
}
