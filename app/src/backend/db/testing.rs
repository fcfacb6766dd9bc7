//! Test support: a fresh, migrated database per test on either engine, and
//! [`test_both_dbs!`](crate::test_both_dbs), which runs a test body once on
//! SQLite and once on PostgreSQL.
//!
//! PostgreSQL comes from `TEST_DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`). Each test creates its own
//! database there and drops it afterwards. When PostgreSQL is unreachable the
//! PostgreSQL variants fail, unless `CRM_CHAT_SKIP_POSTGRES=1` says to skip
//! them; `make test` sets that only after checking, and says so loudly.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::{Connection, Executor, PgConnection};
use tokio::sync::OnceCell;

use super::{Db, Engine, users};
use crate::backend::{Backend, Config};
use crate::protocol::{Me, OrgRole};

pub const DEFAULT_TEST_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
const DATABASE_PREFIX: &str = "crm_chat_t_";

/// A migrated database that exists for one test.
pub struct TestDb {
    pub db: Db,
    pub url: String,
    data_dir: tempfile::TempDir,
    postgres_database: Option<String>,
}

impl TestDb {
    pub async fn new(engine: Engine) -> TestDb {
        let data_dir = tempfile::tempdir().expect("a temporary directory");
        let (url, postgres_database) = match engine {
            Engine::Sqlite => (
                format!("sqlite://{}/test.db", data_dir.path().display()),
                None,
            ),
            Engine::Postgres => {
                let name = create_postgres_database().await;
                (with_database_name(&postgres_admin_url(), &name), Some(name))
            }
        };
        let db = Db::connect(&url, 8)
            .await
            .expect("the test database accepts connections");
        db.migrate()
            .await
            .expect("migrations apply to a fresh database");
        TestDb {
            db,
            url,
            data_dir,
            postgres_database,
        }
    }

    /// A backend on this database with the test configuration.
    pub fn backend(&self) -> Backend {
        Backend::with_db(self.config(), self.db.clone())
    }

    pub fn config(&self) -> Config {
        Config::for_tests(self.url.clone(), self.data_dir.path().join("data"))
    }

    pub fn data_dir(&self) -> &Path {
        self.data_dir.path()
    }
}

/// The password of every user [`people`] creates.
pub const TEST_PASSWORD: &str = "correct horse battery staple";

/// Creates an organisation with the named people (the first an org admin) and
/// returns them as signed-in users. The argon2id hash is computed once per
/// test process.
pub async fn people(backend: &Backend, org: &str, names: &[&str]) -> Vec<Me> {
    static HASH: OnceCell<String> = OnceCell::const_new();
    let hash = HASH
        .get_or_init(|| async { backend.passwords.hash(TEST_PASSWORD).await.expect("a hash") })
        .await;
    let org_id = backend
        .create_org(org, &org.to_lowercase())
        .await
        .expect("an organisation");
    let mut out = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let role = if i == 0 {
            OrgRole::Admin
        } else {
            OrgRole::Member
        };
        let email = format!("{}@{}.test", name.to_lowercase(), org.to_lowercase());
        let id = backend
            .create_user_with_hash(org_id, &email, name, hash, role)
            .await
            .expect("a user");
        let (me, _) = users::me(&backend.db, id)
            .await
            .expect("a query")
            .expect("the user");
        out.push(me);
    }
    out
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(name) = self.postgres_database.take() else {
            return;
        };
        // Drop runs outside any async context we can rely on; use a thread of our own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let mut admin = PgConnection::connect(&postgres_admin_url()).await.ok()?;
                admin
                    .execute(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)").as_str())
                    .await
                    .ok()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(_))) {
            eprintln!("warning: a test database was left behind; the next test run removes it");
        }
    }
}

/// The PostgreSQL server tests use, as a URL to its administrative database.
pub fn postgres_admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|url| !url.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_TEST_DATABASE_URL.to_owned())
}

/// Whether to skip PostgreSQL variants (`CRM_CHAT_SKIP_POSTGRES=1`). Prints why.
pub fn skip_postgres(test: &str) -> bool {
    let skip = std::env::var("CRM_CHAT_SKIP_POSTGRES").is_ok_and(|v| v == "1" || v == "true");
    if skip {
        eprintln!("SKIPPED {test} on PostgreSQL: CRM_CHAT_SKIP_POSTGRES is set");
    }
    skip
}

/// Replaces the database name (the URL path) of a PostgreSQL URL.
pub fn with_database_name(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut replaced = format!("{}/{}", &base[..host_end], name);
    if let Some(query) = query {
        replaced.push('?');
        replaced.push_str(query);
    }
    replaced
}

async fn create_postgres_database() -> String {
    static REAPED: OnceCell<()> = OnceCell::const_new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);

    let admin_url = postgres_admin_url();
    let mut admin = PgConnection::connect(&admin_url).await.unwrap_or_else(|e| {
        panic!(
            "PostgreSQL is not reachable at {admin_url} ({e}). Start it, point TEST_DATABASE_URL \
             at one, or set CRM_CHAT_SKIP_POSTGRES=1 to run the SQLite variants only."
        )
    });
    REAPED
        .get_or_init(|| reap_leftover_databases(&admin_url))
        .await;

    let name = format!(
        "{DATABASE_PREFIX}{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    admin
        .execute(format!("CREATE DATABASE \"{name}\"").as_str())
        .await
        .expect("the test role may create databases");
    name
}

/// Drops databases left by test processes that are no longer running.
async fn reap_leftover_databases(admin_url: &str) {
    let Ok(mut admin) = PgConnection::connect(admin_url).await else {
        return;
    };
    let names: Vec<String> =
        sqlx::query_scalar("SELECT datname::text FROM pg_database WHERE datname LIKE $1")
            .bind(format!("{DATABASE_PREFIX}%"))
            .fetch_all(&mut admin)
            .await
            .unwrap_or_default();
    for name in names {
        let pid = name
            .trim_start_matches(DATABASE_PREFIX)
            .split('_')
            .next()
            .unwrap_or_default();
        let alive = PathBuf::from("/proc").join(pid).exists();
        if !alive {
            let _ = admin
                .execute(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)").as_str())
                .await;
        }
    }
}

/// Runs each test body twice: on a fresh SQLite database and on a fresh
/// PostgreSQL database. The body receives the [`Engine`](crate::backend::db::Engine).
///
/// ```text
/// test_both_dbs! {
///     async fn migrations_run_twice_cleanly(engine) {
///         let test_db = TestDb::new(engine).await;
///         test_db.db.migrate().await.unwrap();
///     }
/// }
/// ```
#[macro_export]
macro_rules! test_both_dbs {
    ($(async fn $name:ident($engine:ident) $body:block)*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                async fn run($engine: $crate::backend::db::Engine) $body

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn on_sqlite() {
                    run($crate::backend::db::Engine::Sqlite).await
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn on_postgres() {
                    if $crate::backend::db::testing::skip_postgres(stringify!($name)) {
                        return;
                    }
                    run($crate::backend::db::Engine::Postgres).await
                }
            }
        )*
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_name_of_a_url_is_replaced() {
        assert_eq!(
            with_database_name("postgres://postgres@127.0.0.1:5432/test", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database_name("postgres://u:p@h/test?sslmode=disable", "x"),
            "postgres://u:p@h/x?sslmode=disable"
        );
        assert_eq!(
            with_database_name("postgres://h:5432", "x"),
            "postgres://h:5432/x"
        );
    }

    crate::test_both_dbs! {
        async fn migrations_run_twice_cleanly(engine) {
            let test_db = TestDb::new(engine).await;
            test_db.db.migrate().await.expect("a second run is a no-op");
            let orgs: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM organizations")
                .fetch_one(test_db.db.pool())
                .await
                .unwrap();
            assert_eq!(orgs, 0);
        }

        async fn every_test_gets_an_empty_database_of_its_own(engine) {
            let first = TestDb::new(engine).await;
            let second = TestDb::new(engine).await;
            first.backend().create_org("Acme", "acme").await.unwrap();
            let in_second: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM organizations")
                .fetch_one(second.db.pool())
                .await
                .unwrap();
            assert_eq!(in_second, 0);
        }

    }

    #[tokio::test]
    async fn sqlite_connections_use_wal_full_sync_and_foreign_keys() {
        let test_db = TestDb::new(Engine::Sqlite).await;
        let pool = test_db.db.pool();
        let journal: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(pool)
            .await
            .unwrap();
        let synchronous: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(pool)
            .await
            .unwrap();
        let foreign_keys: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(journal, "wal");
        assert_eq!(synchronous, 2, "2 is FULL");
        assert_eq!(foreign_keys, 1);
    }
}
