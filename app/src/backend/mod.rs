//! Everything that runs only on the server: storage, auth and, in later
//! modules, chat, notifications and the real-time hub. Nothing in here knows
//! about HTTP; the edges (REST handlers, server functions, the WebSocket
//! gateway) parse input, call in here, and map [`Error`] to a response.

pub mod auth;
pub mod chat;
pub mod config;
pub mod db;
pub mod directory;
pub mod error;
pub mod notifications;
pub mod realtime;
pub mod seed;

use std::sync::Arc;

pub use config::Config;
pub use db::{Db, Engine};
pub use error::{Error, Result};

use auth::passwords::Passwords;
use auth::tokens::Tokens;
use chat::files::{BlobStore, LocalDir};
use chat::writer::Writer;
use realtime::{Fanout, Hub};

/// The server's services. Cheap to clone: every field is shared.
#[derive(Clone)]
pub struct Backend {
    pub config: Arc<Config>,
    pub db: Db,
    pub passwords: Passwords,
    pub tokens: Arc<Tokens>,
    /// Every change to a conversation goes through it (see `chat::writer`).
    pub writer: Writer,
    pub hub: Arc<Hub>,
    /// How events reach connections: this node's hub, or the bus to all nodes.
    pub fanout: Arc<Fanout>,
    pub blobs: Arc<dyn BlobStore>,
}

impl Backend {
    /// Connects to the database, migrates it, and seeds demo data when the
    /// configuration asks for it and the database is empty.
    pub async fn start(config: Config) -> anyhow::Result<Backend> {
        let db = Db::connect(&config.database_url, config.db_max_connections).await?;
        db.migrate().await?;
        let backend = Backend::assemble(config, db).await?;
        if backend.config.seed_demo {
            seed::seed_demo_if_empty(&backend).await?;
        }
        Ok(backend)
    }

    /// Wraps an already migrated database: on PostgreSQL as a node of a
    /// cluster (the bus between processes), unless `config.bus` says local.
    pub async fn assemble(config: Config, db: Db) -> anyhow::Result<Backend> {
        let blobs: Option<Arc<dyn BlobStore>> = match &config.blob_store {
            Some(url) => Some(Arc::new(chat::files::ObjectStoreBlobs::s3(url)?)),
            None => None,
        };
        let hub = Hub::new();
        let fanout = if db.engine() == Engine::Postgres && config.bus == config::BusMode::Postgres {
            Fanout::Cluster(
                realtime::bus::Cluster::join(db.clone(), hub.clone(), config.cluster).await?,
            )
        } else {
            Fanout::Local(hub.clone())
        };
        let mut backend = Backend::with_fanout(config, db, hub, fanout);
        if let Some(blobs) = blobs {
            backend.blobs = blobs;
        }
        Ok(backend)
    }

    /// Wraps an already migrated database, as a single node. Needs a Tokio
    /// runtime: it starts the writer.
    pub fn with_db(config: Config, db: Db) -> Backend {
        let hub = Hub::new();
        let fanout = Fanout::Local(hub.clone());
        Backend::with_fanout(config, db, hub, fanout)
    }

    fn with_fanout(config: Config, db: Db, hub: Arc<Hub>, fanout: Fanout) -> Backend {
        let hashing_threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        let fanout = Arc::new(fanout);
        let writer = Writer::start(db.clone(), fanout.clone());
        realtime::session::start_typing_sweeper(Arc::downgrade(&fanout));
        Backend {
            tokens: Arc::new(Tokens::new(&config.jwt_secret)),
            passwords: Passwords::new(hashing_threads),
            writer,
            hub,
            fanout,
            blobs: Arc::new(LocalDir::new(config.data_dir.join("uploads"))),
            config: Arc::new(config),
            db,
        }
    }
}

/// Now, in unix milliseconds: the one timestamp format of the schema and the wire.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
