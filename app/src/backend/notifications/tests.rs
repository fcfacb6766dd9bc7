//! The notification domain, rule by rule, on both engines.

use crate::backend::chat::events::ChatEvent;
use crate::backend::db::Engine;
use crate::backend::db::notifications::Filter;
use crate::backend::db::testing::{TestDb, people};
use crate::backend::{Backend, Error};
use crate::protocol::{
    IngestNotification, Me, NotificationId, NotificationKind, SendMessage, UserId,
};
use crate::test_both_dbs;

/// Acme with Alice (org admin), Bob and Carol; Globex with Gina.
async fn world(engine: Engine) -> (TestDb, Backend, Vec<Me>, Me) {
    let test_db = TestDb::new(engine).await;
    let backend = test_db.backend();
    let acme = people(&backend, "Acme", &["Alice", "Bob", "Carol"]).await;
    let globex = people(&backend, "Globex", &["Gina"]).await;
    (test_db, backend, acme, globex[0].clone())
}

fn lead_for(recipients: &[&Me]) -> IngestNotification {
    IngestNotification {
        kind: "LEAD_ASSIGNED".into(),
        title: "Lead assigned: Initech".into(),
        body: "Initech (50 seats) is yours.".into(),
        recipient_ids: recipients.iter().map(|m| m.id).collect(),
        metadata: Some(serde_json::json!({"leadId": 7})),
        link: Some("https://crm.example.com/leads/7".into()),
        ..Default::default()
    }
}

fn text(content: &str) -> SendMessage {
    SendMessage {
        client_msg_id: Some(uuid::Uuid::new_v4().to_string()),
        content: content.into(),
        ..Default::default()
    }
}

/// The group "Deals", created by `admin` with `members`.
async fn deals(backend: &Backend, admin: &Me, members: &[&Me]) -> crate::protocol::ConversationId {
    let request = crate::protocol::CreateConversation {
        title: Some("Deals".into()),
        member_ids: members.iter().map(|m| m.id).collect(),
        ..Default::default()
    };
    backend
        .create_conversation(admin, request)
        .await
        .unwrap()
        .id
}

async fn count(backend: &Backend, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(backend.db.pool())
        .await
        .expect("a count")
}

async fn unread(backend: &Backend, me: &Me) -> i64 {
    backend
        .notification_unread_count(me)
        .await
        .expect("a count")
}

test_both_dbs! {
    async fn ingestion_creates_one_notification_per_recipient_with_everything_it_was_given(engine) {
        let (_db, backend, acme, _) = world(engine).await;
        let (alice, bob, carol) = (&acme[0], &acme[1], &acme[2]);
        let request = IngestNotification { actor_id: Some(alice.id), ..lead_for(&[bob, carol]) };
        let outcome = backend.ingest_notifications(alice.org_id, request, None).await.unwrap();
        assert!(!outcome.replayed);
        assert_eq!(outcome.ingested.notifications.len(), 2);

        let page = backend.notifications(bob, Filter::default(), None).await.unwrap();
        assert_eq!((page.notifications.len(), page.unread_count, page.has_more), (1, 1, false));
        let n = &page.notifications[0];
        assert_eq!(n.kind, NotificationKind::LeadAssigned);
        assert_eq!(n.title, "Lead assigned: Initech");
        assert_eq!(n.metadata, serde_json::json!({"leadId": 7}));
        assert_eq!(n.link.as_deref(), Some("https://crm.example.com/leads/7"));
        assert_eq!(n.actor.as_ref().map(|a| a.display_name.as_str()), Some("Alice"));
        assert_eq!(n.read_at, None);
        assert_eq!(unread(&backend, carol).await, 1);
        assert_eq!(unread(&backend, alice).await, 0);
    }

    async fn a_retry_with_the_same_idempotency_key_returns_the_first_answer_and_stores_nothing(engine) {
        let (_db, backend, acme, _) = world(engine).await;
        let (alice, bob) = (&acme[0], &acme[1]);
        let first = backend
            .ingest_notifications(alice.org_id, lead_for(&[bob]), Some("crm-event-1"))
            .await
            .unwrap();
        // Two more at once, racing each other.
        let (second, third) = tokio::join!(
            backend.ingest_notifications(alice.org_id, lead_for(&[bob]), Some("crm-event-1")),
            backend.ingest_notifications(alice.org_id, lead_for(&[bob]), Some("crm-event-1")),
        );
        for retry in [second.unwrap(), third.unwrap()] {
            assert!(retry.replayed);
            assert_eq!(retry.ingested, first.ingested);
        }
        assert_eq!(count(&backend, "SELECT COUNT(*) FROM notifications").await, 1);

        // The same key for another request is refused; another key is new.
        let other = IngestNotification { title: "Something else".into(), ..lead_for(&[bob]) };
        let reused = backend.ingest_notifications(alice.org_id, other, Some("crm-event-1")).await;
        assert!(matches!(reused, Err(Error::IdempotencyKeyReused)), "{:?}", reused.err());
        backend
            .ingest_notifications(alice.org_id, lead_for(&[bob]), Some("crm-event-2"))
            .await
            .unwrap();
        assert_eq!(count(&backend, "SELECT COUNT(*) FROM notifications").await, 2);
    }

    async fn racing_first_attempts_with_one_idempotency_key_store_one_notification(engine) {
        let (_db, backend, acme, _) = world(engine).await;
        let (alice, bob) = (&acme[0], &acme[1]);
        let attempts = (0..6).map(|_| {
            backend.ingest_notifications(alice.org_id, lead_for(&[bob]), Some("race"))
        });
        let outcomes = futures::future::join_all(attempts).await;
        let answers: Vec<_> = outcomes.into_iter().map(Result::unwrap).collect();
        assert_eq!(answers.iter().filter(|a| !a.replayed).count(), 1);
        assert!(answers.windows(2).all(|w| w[0].ingested == w[1].ingested));
        assert_eq!(count(&backend, "SELECT COUNT(*) FROM notifications").await, 1);
    }

    async fn a_recipient_or_actor_of_another_organisation_is_not_found_and_nothing_is_stored(engine) {
        let (_db, backend, acme, gina) = world(engine).await;
        let (alice, bob) = (&acme[0], &acme[1]);
        let foreign = backend.ingest_notifications(alice.org_id, lead_for(&[bob, &gina]), None).await;
        assert!(matches!(foreign, Err(Error::NotFound)));
        let foreign_actor = IngestNotification { actor_id: Some(gina.id), ..lead_for(&[bob]) };
        let foreign_actor = backend.ingest_notifications(alice.org_id, foreign_actor, None).await;
        assert!(matches!(foreign_actor, Err(Error::NotFound)));
        let unknown = backend.ingest_notifications(alice.org_id, lead_for(&[]), None).await;
        assert!(matches!(unknown, Err(Error::InvalidInput(_))));
        let bad_kind = IngestNotification { kind: "LEAD_LOST".into(), ..lead_for(&[bob]) };
        let bad_kind = backend.ingest_notifications(alice.org_id, bad_kind, None).await;
        assert!(matches!(bad_kind, Err(Error::UnknownNotificationKind(_))));
        assert_eq!(count(&backend, "SELECT COUNT(*) FROM notifications").await, 0);
    }

    async fn the_feed_pages_newest_first_and_filters_by_kind_and_unread(engine) {
        let (_db, backend, acme, _) = world(engine).await;
        let (alice, bob) = (&acme[0], &acme[1]);
        for i in 0..5 {
            let kind = if i % 2 == 0 { "TASK_ASSIGNED" } else { "REMINDER" };
            let request = IngestNotification {
                kind: kind.into(),
                title: format!("n{i}"),
                ..lead_for(&[bob])
            };
            backend.ingest_notifications(alice.org_id, request, None).await.unwrap();
            // Distinct activity times, so the order is the order of creation.
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
        let first = backend.notifications(bob, Filter::default(), Some(2)).await.unwrap();
        let titles: Vec<_> = first.notifications.iter().map(|n| n.title.as_str()).collect();
        assert_eq!((titles, first.has_more), (vec!["n4", "n3"], true));
        let before = Filter { before: Some(first.notifications[1].id), ..Filter::default() };
        let second = backend.notifications(bob, before, Some(10)).await.unwrap();
        let titles: Vec<_> = second.notifications.iter().map(|n| n.title.as_str()).collect();
        assert_eq!((titles, second.has_more), (vec!["n2", "n1", "n0"], false));

        let reminders = Filter { kind: Some(NotificationKind::Reminder), ..Filter::default() };
        let reminders = backend.notifications(bob, reminders, None).await.unwrap();
        assert_eq!(reminders.notifications.len(), 2);

        backend.mark_notification_read(bob, second.notifications[0].id).await.unwrap();
        let unread_only = Filter { unread_only: true, ..Filter::default() };
        let page = backend.notifications(bob, unread_only, None).await.unwrap();
        assert_eq!((page.notifications.len(), page.unread_count), (4, 4));
    }

    async fn another_user_s_notification_is_not_found_for_reading_or_deleting(engine) {
        let (_db, backend, acme, gina) = world(engine).await;
        let (alice, bob, carol) = (&acme[0], &acme[1], &acme[2]);
        let created = backend.ingest_notifications(alice.org_id, lead_for(&[bob]), None).await.unwrap();
        let id = created.ingested.notifications[0].id;
        for outsider in [carol, &gina] {
            assert!(matches!(backend.mark_notification_read(outsider, id).await, Err(Error::NotFound)));
            assert!(matches!(backend.delete_notification(outsider, id).await, Err(Error::NotFound)));
        }
        assert!(matches!(
            backend.mark_notification_read(bob, NotificationId(id.0 + 1000)).await,
            Err(Error::NotFound)
        ));
        assert_eq!(unread(&backend, bob).await, 1);

        backend.delete_notification(bob, id).await.unwrap();
        assert_eq!(unread(&backend, bob).await, 0);
        let page = backend.notifications(bob, Filter::default(), None).await.unwrap();
        assert!(page.notifications.is_empty());
        assert!(matches!(backend.delete_notification(bob, id).await, Err(Error::NotFound)));
    }

    async fn mark_all_read_reads_100000_notifications_in_one_statement(engine) {
        let (_db, backend, acme, _) = world(engine).await;
        let (alice, bob) = (&acme[0], &acme[1]);
        sqlx::query(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000)
             INSERT INTO notifications (org_id, user_id, kind, title, body, created_at, activity_at)
             SELECT $1, $2, CASE WHEN i % 10 = 0 THEN 'REMINDER' ELSE 'TASK_ASSIGNED' END,
                    'Task ' || i, '', i, i
             FROM n",
        )
        .bind(alice.org_id)
        .bind(bob.id)
        .execute(backend.db.pool())
        .await
        .unwrap();
        assert_eq!(unread(&backend, bob).await, 100_000);
        let reminders = backend
            .mark_all_notifications_read(bob, Some(NotificationKind::Reminder))
            .await
            .unwrap();
        assert_eq!(reminders, 10_000);
        assert_eq!(unread(&backend, bob).await, 90_000);
        assert_eq!(backend.mark_all_notifications_read(bob, None).await.unwrap(), 90_000);
        assert_eq!(unread(&backend, bob).await, 0);
        assert_eq!(count(&backend, "SELECT COUNT(*) FROM notifications WHERE read_at IS NULL").await, 0);
    }

    async fn messages_to_an_offline_member_collapse_into_one_notification_per_conversation(engine) {
        let (_db, backend, acme, _) = world(engine).await;
        let (alice, bob, carol) = (&acme[0], &acme[1], &acme[2]);
        // Carol is connected; Bob is not.
        let _carol_tab = backend.connect(carol);
        let group = deals(&backend, alice, &[bob, carol]).await;
        for content in ["first", "second", "third"] {
            backend.send_message(alice, group, text(content), None).await.unwrap();
        }
        let page = backend.notifications(bob, Filter::default(), None).await.unwrap();
        assert_eq!(page.notifications.len(), 1, "{:#?}", page.notifications);
        let n = &page.notifications[0];
        assert_eq!(n.kind, NotificationKind::NewMessage);
        assert_eq!((n.count, n.conversation_id), (3, Some(group)));
        assert_eq!((n.title.as_str(), n.body.as_str()), ("Deals", "Alice: third"));
        assert_eq!(n.link, Some(format!("/c/{group}")));
        assert_eq!(unread(&backend, carol).await, 0);
        assert_eq!(unread(&backend, alice).await, 0, "no notification for one's own messages");

        // A direct conversation is titled by the sender.
        let direct = backend.direct_conversation(alice, bob.id).await.unwrap();
        backend.send_message(alice, direct, text("ping"), None).await.unwrap();
        let page = backend.notifications(bob, Filter::default(), None).await.unwrap();
        assert_eq!(page.notifications.len(), 2);
        assert_eq!((page.notifications[0].title.as_str(), page.notifications[0].body.as_str()), ("Alice", "ping"));
    }

    async fn reading_a_conversation_reads_its_notification_and_the_next_message_starts_a_new_one(engine) {
        let (_db, backend, acme, _) = world(engine).await;
        let (alice, bob) = (&acme[0], &acme[1]);
        let direct = backend.direct_conversation(alice, bob.id).await.unwrap();
        backend.send_message(alice, direct, text("one"), None).await.unwrap();
        backend.send_message(alice, direct, text("two"), None).await.unwrap();
        let mut feed = backend.hub.subscribe();

        // Reading part of it leaves the notification unread.
        backend.mark_read(bob, direct, Some(1)).await.unwrap();
        assert_eq!(unread(&backend, bob).await, 1);
        backend.mark_read(bob, direct, None).await.unwrap();
        assert_eq!(unread(&backend, bob).await, 0);
        let pushed = loop {
            match feed.recv().await.unwrap().as_ref() {
                ChatEvent::NotificationsChanged { user_id, unread_count, read, .. } if *user_id == bob.id => {
                    break (*unread_count, read.len());
                }
                _ => continue,
            }
        };
        assert_eq!(pushed, (0, 1));

        backend.send_message(alice, direct, text("three"), None).await.unwrap();
        let page = backend.notifications(bob, Filter::default(), None).await.unwrap();
        assert_eq!(page.notifications.len(), 2);
        assert_eq!((page.notifications[0].count, page.notifications[0].read_at), (1, None));
        assert!(page.notifications[1].read_at.is_some());
    }

    async fn a_muted_conversation_leaves_no_notifications(engine) {
        let (_db, backend, acme, _) = world(engine).await;
        let (alice, bob) = (&acme[0], &acme[1]);
        let direct = backend.direct_conversation(alice, bob.id).await.unwrap();
        backend.set_conversation_muted(bob, direct, true).await.unwrap();
        backend.send_message(alice, direct, text("psst"), None).await.unwrap();
        assert_eq!(unread(&backend, bob).await, 0);
        let summary = backend.conversation(bob, direct).await.unwrap();
        assert!(summary.muted);
        assert_eq!(summary.unread_count, 1, "muting hides notifications, not unread counts");
    }

    async fn a_mention_gets_through_a_mute_for_the_member_it_names_only(engine) {
        let (_db, backend, acme, _) = world(engine).await;
        let (alice, bob, carol) = (&acme[0], &acme[1], &acme[2]);
        let group = deals(&backend, alice, &[bob, carol]).await;
        for member in [bob, carol] {
            backend.set_conversation_muted(member, group, true).await.unwrap();
        }
        backend.send_message(alice, group, text("@bob can you call Initech?"), None).await.unwrap();
        let page = backend.notifications(bob, Filter::default(), None).await.unwrap();
        assert_eq!(page.notifications.len(), 1, "{:#?}", page.notifications);
        assert_eq!(page.notifications[0].body, "Alice: @bob can you call Initech?");
        assert_eq!(unread(&backend, carol).await, 0, "Carol was not mentioned");

        // An address is not a mention; a name that is not a member's names nobody.
        backend.send_message(alice, group, text("mail carol@acme.test or @Gina"), None).await.unwrap();
        assert_eq!(unread(&backend, carol).await, 0);

        // `@all` names every member.
        backend.send_message(alice, group, text("@all the board meets at 3"), None).await.unwrap();
        assert_eq!(unread(&backend, carol).await, 1);
        let page = backend.notifications(carol, Filter::default(), None).await.unwrap();
        assert_eq!(page.notifications[0].body, "Alice: @all the board meets at 3");
    }

    async fn a_muted_kind_is_stored_and_counted_but_not_pushed(engine) {
        let (_db, backend, acme, _) = world(engine).await;
        let (alice, bob, carol) = (&acme[0], &acme[1], &acme[2]);
        let settings = backend
            .set_notification_muted(bob, NotificationKind::LeadAssigned, true)
            .await
            .unwrap();
        assert!(settings.iter().any(|s| s.kind == NotificationKind::LeadAssigned && s.muted));
        assert_eq!(settings.iter().filter(|s| s.muted).count(), 1);
        let mut feed = backend.hub.subscribe();
        backend.ingest_notifications(alice.org_id, lead_for(&[bob, carol]), None).await.unwrap();
        let mut pushed: Vec<(UserId, bool, i64)> = Vec::new();
        while pushed.len() < 2 {
            if let ChatEvent::NotificationCreated { user_id, push, unread_count, .. } =
                feed.recv().await.unwrap().as_ref()
            {
                pushed.push((*user_id, *push, *unread_count));
            }
        }
        pushed.sort();
        assert_eq!(pushed, vec![(bob.id, false, 1), (carol.id, true, 1)]);
        assert_eq!(unread(&backend, bob).await, 1);
    }

    async fn only_organisation_admins_manage_api_keys_and_a_revoked_key_stops_working(engine) {
        let (_db, backend, acme, gina) = world(engine).await;
        let (alice, bob) = (&acme[0], &acme[1]);
        assert!(matches!(backend.create_api_key(bob, "HubSpot").await, Err(Error::Forbidden(_))));
        assert!(matches!(backend.create_api_key(alice, "  ").await, Err(Error::InvalidInput(_))));
        let created = backend.create_api_key(alice, "Lead router").await.unwrap();
        assert!(created.key.starts_with("crmk_") && created.key.len() == 5 + 64);
        assert!(created.key.starts_with(&created.summary.prefix));
        let (_, org) = backend.authenticate_api_key(&created.key).await.unwrap();
        assert_eq!(org, alice.org_id);
        let stored: String = sqlx::query_scalar("SELECT key_hash FROM api_keys")
            .fetch_one(backend.db.pool())
            .await
            .unwrap();
        assert!(!stored.contains(&created.key[5..]), "only a hash is stored");

        let keys = backend.api_keys(alice).await.unwrap();
        assert_eq!(keys.len(), 1);
        assert!(keys[0].last_used_at.is_some());
        assert!(matches!(backend.revoke_api_key(&gina, created.summary.id).await, Err(Error::Forbidden(_)) | Err(Error::NotFound)));
        backend.revoke_api_key(alice, created.summary.id).await.unwrap();
        assert!(matches!(backend.authenticate_api_key(&created.key).await, Err(Error::Unauthenticated)));
        // A user's session token is no API key.
        let session = backend.issue_session(alice.id).await.unwrap();
        assert!(matches!(backend.authenticate_api_key(&session.token).await, Err(Error::Unauthenticated)));
    }
}
