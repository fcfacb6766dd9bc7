//! Demo data for a fresh install: Acme with six people and Globex with two,
//! all sharing the demo password, so a newcomer can sign in at once and try
//! organisation isolation with a second tenant.

use crate::protocol::{OrgId, OrgRole, ParticipantRole, UserId};

use super::auth::normalize_email;
use super::db::{conversations, orgs, participants, users};
use super::{Backend, now_ms};

/// (display name, email, role)
type DemoPerson = (&'static str, &'static str, OrgRole);

/// (organisation name, slug, people)
pub const DEMO_ORGS: &[(&str, &str, &[DemoPerson])] = &[
    (
        "Acme",
        "acme",
        &[
            ("Alice Admin", "alice@acme.test", OrgRole::Admin),
            ("Bob Baker", "bob@acme.test", OrgRole::Member),
            ("Dave Diaz", "dave@acme.test", OrgRole::Member),
            ("Erin Evans", "erin@acme.test", OrgRole::Member),
            ("Frank Fisher", "frank@acme.test", OrgRole::Member),
            ("Heidi Hall", "heidi@acme.test", OrgRole::Member),
        ],
    ),
    (
        "Globex",
        "globex",
        &[
            ("Carol Chen", "carol@globex.test", OrgRole::Admin),
            ("Grace Green", "grace@globex.test", OrgRole::Member),
        ],
    ),
];

impl Backend {
    pub async fn create_org(&self, name: &str, slug: &str) -> anyhow::Result<OrgId> {
        Ok(orgs::insert(&self.db, name, slug, now_ms()).await?)
    }

    pub async fn create_user(
        &self,
        org_id: OrgId,
        email: &str,
        display_name: &str,
        password: &str,
        role: OrgRole,
    ) -> anyhow::Result<UserId> {
        let password_hash = self.passwords.hash(password).await?;
        self.create_user_with_hash(org_id, email, display_name, &password_hash, role)
            .await
    }

    /// For callers that already hold an argon2id hash (tests reuse one).
    pub async fn create_user_with_hash(
        &self,
        org_id: OrgId,
        email: &str,
        display_name: &str,
        password_hash: &str,
        role: OrgRole,
    ) -> anyhow::Result<UserId> {
        let email = normalize_email(email);
        // Names are shown on one line, and lists aggregate them line by line.
        anyhow::ensure!(
            !display_name.trim().is_empty() && !display_name.chars().any(char::is_control),
            "a display name is one line of text"
        );
        let display_name = display_name.trim();
        let new_user = users::NewUser {
            org_id,
            email: &email,
            display_name,
            password_hash,
            role,
        };
        let now = now_ms();
        let mut tx = self.db.begin_write().await?;
        let id = users::insert(&mut tx, new_user, now).await?;
        // Broadcasts reach everyone in the organisation, newcomers included.
        for broadcast in conversations::broadcasts_of_org(&mut tx, org_id).await? {
            let Some(row) = conversations::get(&mut tx, broadcast).await? else {
                continue;
            };
            let role = if role == OrgRole::Admin {
                ParticipantRole::Admin
            } else {
                ParticipantRole::Member
            };
            participants::insert_many(&mut tx, broadcast, &[(id, role)], row.last_message_seq, now)
                .await?;
        }
        tx.commit().await?;
        Ok(id)
    }
}

/// Seeds the demo organisations when the database has none. Returns whether it did.
pub async fn seed_demo_if_empty(backend: &Backend) -> anyhow::Result<bool> {
    if orgs::count(&backend.db).await? > 0 {
        return Ok(false);
    }
    let password = backend.config.demo_password.clone();
    let password_hash = backend.passwords.hash(&password).await?;
    for (org_name, slug, people) in DEMO_ORGS {
        let org_id = backend.create_org(org_name, slug).await?;
        for (name, email, role) in *people {
            backend
                .create_user_with_hash(org_id, email, name, &password_hash, *role)
                .await?;
        }
    }
    tracing::info!(
        "Seeded demo data. Sign in as alice@acme.test (admin), bob@acme.test, ... or carol@globex.test, password {password:?}",
    );
    Ok(true)
}
