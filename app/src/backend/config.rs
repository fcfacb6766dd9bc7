//! Configuration from `CRM_CHAT_*` environment variables and `DATABASE_URL`,
//! with defaults that run on a fresh machine.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;

#[derive(Clone, Debug)]
pub struct Config {
    /// Where the server listens. `CRM_CHAT_ADDR`, else `LEPTOS_SITE_ADDR`, else 127.0.0.1:3000.
    pub bind_addr: SocketAddr,
    /// `CRM_CHAT_DATA_DIR`, default `data`: the SQLite file, uploads and the generated JWT secret.
    pub data_dir: PathBuf,
    /// `DATABASE_URL`, default `sqlite://<data_dir>/crm-chat.db`.
    pub database_url: String,
    /// `CRM_CHAT_DB_MAX_CONNECTIONS`, default 8 for SQLite (readers) and 16 for PostgreSQL.
    pub db_max_connections: u32,
    /// `CRM_CHAT_JWT_SECRET`, else generated on first run and kept in `<data_dir>/jwt-secret`.
    pub jwt_secret: Vec<u8>,
    /// `CRM_CHAT_SESSION_HOURS`, default 168 (a week).
    pub session_ttl: Duration,
    /// `CRM_CHAT_PUBLIC_URL`, default `http://<bind_addr>`. An `https` URL makes cookies `Secure`.
    pub public_url: String,
    /// `CRM_CHAT_ALLOWED_ORIGINS`, comma separated, in addition to the request's own host.
    pub allowed_origins: Vec<String>,
    /// `CRM_CHAT_SEED_DEMO`, default true: seed demo organisations into an empty database.
    pub seed_demo: bool,
    /// `CRM_CHAT_DEMO_PASSWORD`, default `crm-chat-demo`: the demo users' password.
    pub demo_password: String,
    /// `CRM_CHAT_MAX_UPLOAD_MB`, default 20: the largest attachment accepted.
    pub max_upload_bytes: u64,
    /// `CRM_CHAT_BUS`: `postgres` (the default with PostgreSQL) makes this
    /// process a node of a cluster that shares the database; `local` keeps
    /// events inside the process (one node only).
    pub bus: BusMode,
    /// How quickly a cluster notices a dead node or a lost bus.
    pub cluster: crate::backend::realtime::bus::Timing,
    /// `CRM_CHAT_BLOB_STORE`: `local` (default, `<data_dir>/uploads`) or
    /// `s3://bucket/prefix` (credentials from `AWS_*`), which nodes share.
    pub blob_store: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BusMode {
    Local,
    Postgres,
}

pub const JWT_ISSUER: &str = "crm-chat";
pub const JWT_AUDIENCE: &str = "crm-chat";

impl Config {
    /// Reads the environment. Generates and stores the JWT secret when none is set.
    pub fn from_env() -> anyhow::Result<Config> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());

        let bind_addr: SocketAddr = var("CRM_CHAT_ADDR")
            .or_else(|| var("LEPTOS_SITE_ADDR"))
            .unwrap_or_else(|| "127.0.0.1:3000".to_owned())
            .parse()
            .context("CRM_CHAT_ADDR must be host:port, e.g. 127.0.0.1:3000")?;
        let data_dir = PathBuf::from(var("CRM_CHAT_DATA_DIR").unwrap_or_else(|| "data".to_owned()));
        std::fs::create_dir_all(&data_dir).with_context(|| {
            format!("Failed to create the data directory {}", data_dir.display())
        })?;
        let database_url = var("DATABASE_URL").unwrap_or_else(|| default_sqlite_url(&data_dir));
        let is_postgres = database_url.starts_with("postgres");
        let db_max_connections = match var("CRM_CHAT_DB_MAX_CONNECTIONS") {
            Some(v) => v
                .parse()
                .context("CRM_CHAT_DB_MAX_CONNECTIONS must be a number")?,
            None if is_postgres => 16,
            None => 8,
        };
        let jwt_secret = match var("CRM_CHAT_JWT_SECRET") {
            Some(secret) if secret.len() >= 32 => secret.into_bytes(),
            Some(_) => anyhow::bail!("CRM_CHAT_JWT_SECRET must be at least 32 characters"),
            None => load_or_create_secret(&data_dir.join("jwt-secret"))?,
        };
        let session_hours: u64 = match var("CRM_CHAT_SESSION_HOURS") {
            Some(v) => v
                .parse()
                .context("CRM_CHAT_SESSION_HOURS must be a number")?,
            None => 168,
        };
        let public_url = var("CRM_CHAT_PUBLIC_URL")
            .unwrap_or_else(|| format!("http://{bind_addr}"))
            .trim_end_matches('/')
            .to_owned();
        let allowed_origins = var("CRM_CHAT_ALLOWED_ORIGINS")
            .map(|v| {
                v.split(',')
                    .map(|o| o.trim().trim_end_matches('/').to_owned())
                    .collect()
            })
            .unwrap_or_default();
        let seed_demo = var("CRM_CHAT_SEED_DEMO").is_none_or(|v| parse_bool(&v));
        let demo_password =
            var("CRM_CHAT_DEMO_PASSWORD").unwrap_or_else(|| "crm-chat-demo".to_owned());
        let bus = match var("CRM_CHAT_BUS").as_deref() {
            None | Some("postgres") => BusMode::Postgres,
            Some("local") => BusMode::Local,
            Some(_) => anyhow::bail!("CRM_CHAT_BUS must be postgres or local"),
        };
        let seconds = |name: &str, default: Duration| -> anyhow::Result<Duration> {
            match var(name) {
                Some(v) => {
                    Ok(Duration::from_secs(v.parse().with_context(|| {
                        format!("{name} must be a number of seconds")
                    })?))
                }
                None => Ok(default),
            }
        };
        let timing = crate::backend::realtime::bus::Timing::default();
        let cluster = crate::backend::realtime::bus::Timing {
            node_timeout: seconds("CRM_CHAT_NODE_TIMEOUT_SECS", timing.node_timeout)?,
            bus_loss_limit: seconds("CRM_CHAT_BUS_LOSS_LIMIT_SECS", timing.bus_loss_limit)?,
        };
        let blob_store = var("CRM_CHAT_BLOB_STORE").filter(|v| v != "local");
        let max_upload_mb: u64 = match var("CRM_CHAT_MAX_UPLOAD_MB") {
            Some(v) => v
                .parse()
                .context("CRM_CHAT_MAX_UPLOAD_MB must be a number")?,
            None => 20,
        };

        Ok(Config {
            bind_addr,
            data_dir,
            database_url,
            db_max_connections,
            jwt_secret,
            session_ttl: Duration::from_secs(session_hours * 3600),
            public_url,
            allowed_origins,
            seed_demo,
            demo_password,
            max_upload_bytes: max_upload_mb * 1024 * 1024,
            bus,
            cluster,
            blob_store,
        })
    }

    /// A configuration for tests: the given database, a fresh data dir, a random
    /// secret, port 0 and no demo data.
    pub fn for_tests(database_url: String, data_dir: PathBuf) -> Config {
        Config {
            bind_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir,
            database_url,
            db_max_connections: 8,
            jwt_secret: random_secret(),
            session_ttl: Duration::from_secs(3600),
            public_url: "http://127.0.0.1".to_owned(),
            allowed_origins: Vec::new(),
            seed_demo: false,
            demo_password: "crm-chat-demo".to_owned(),
            max_upload_bytes: 20 * 1024 * 1024,
            bus: BusMode::Postgres,
            cluster: crate::backend::realtime::bus::Timing::default(),
            blob_store: None,
        }
    }

    /// Browsers only send `Secure` cookies over https.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

pub fn default_sqlite_url(data_dir: &Path) -> String {
    format!("sqlite://{}/crm-chat.db", data_dir.display())
}

fn parse_bool(value: &str) -> bool {
    matches!(
        value.trim().to_ascii_lowercase().as_str(),
        "1" | "true" | "yes" | "on"
    )
}

fn random_secret() -> Vec<u8> {
    use rand::RngCore;
    let mut secret = vec![0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    secret
}

fn load_or_create_secret(path: &Path) -> anyhow::Result<Vec<u8>> {
    if let Ok(existing) = std::fs::read(path) {
        anyhow::ensure!(
            existing.len() >= 32,
            "{} is shorter than 32 bytes",
            path.display()
        );
        return Ok(existing);
    }
    let secret = random_secret();
    write_private(path, &secret)
        .with_context(|| format!("Failed to write the JWT secret to {}", path.display()))?;
    Ok(secret)
}

/// Writes a file readable by its owner only.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_secret_is_kept_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jwt-secret");
        let first = load_or_create_secret(&path).unwrap();
        let second = load_or_create_secret(&path).unwrap();
        assert_eq!(first.len(), 32);
        assert_eq!(first, second);
    }

    #[test]
    fn cookies_are_secure_only_behind_https() {
        let mut config = Config::for_tests("sqlite::memory:".into(), PathBuf::from("x"));
        assert!(!config.secure_cookies());
        config.public_url = "https://chat.example.com".into();
        assert!(config.secure_cookies());
    }
}
