//! The chat domain, rule by rule, on both engines.

use std::collections::HashSet;

use bytes::Bytes;

use super::events::ChatEvent;
use super::writer::Outcome;
use crate::backend::db::testing::{TestDb, people};
use crate::backend::db::{Engine, participants};
use crate::backend::{Backend, Error};
use crate::model::preview;
use crate::protocol::{
    ConversationId, ConversationKind, ConversationSummary, CreateConversation, ForwardMessage, Me,
    MessageKind, ParticipantRole, SendMessage,
};
use crate::test_both_dbs;

/// Acme with Alice (org admin), Bob, Carol and Dave.
async fn acme(engine: Engine) -> (TestDb, Backend, Vec<Me>) {
    let test_db = TestDb::new(engine).await;
    let backend = test_db.backend();
    let people = people(&backend, "Acme", &["Alice", "Bob", "Carol", "Dave"]).await;
    (test_db, backend, people)
}

fn text(content: &str) -> SendMessage {
    SendMessage {
        client_msg_id: Some(uuid::Uuid::new_v4().to_string()),
        content: content.into(),
        ..Default::default()
    }
}

async fn group(backend: &Backend, admin: &Me, title: &str, members: &[&Me]) -> ConversationId {
    let request = CreateConversation {
        kind: Some(ConversationKind::Group),
        title: Some(title.into()),
        member_ids: members.iter().map(|m| m.id).collect(),
        ..Default::default()
    };
    backend
        .create_conversation(admin, request)
        .await
        .expect("a group")
        .id
}

async fn count(backend: &Backend, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(backend.db.pool())
        .await
        .expect("a count")
}

async fn history_texts(backend: &Backend, me: &Me, id: ConversationId) -> Vec<String> {
    let page = backend
        .messages(me, id, None, Some(100))
        .await
        .expect("history");
    page.messages.into_iter().map(|m| m.content).collect()
}

fn bytes_stream(
    bytes: &'static [u8],
) -> impl futures::Stream<Item = std::io::Result<Bytes>> + Unpin {
    futures::stream::iter(
        bytes
            .chunks(1000)
            .map(|c| Ok(Bytes::from_static(c)))
            .collect::<Vec<_>>(),
    )
}

const PNG_2X3: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0, 0,
    2, 0, 0, 0, 3, 8, 6, 0, 0, 0, 0x9D, 0x19, 0xD5, 0x6B, 0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xAE,
    0x42, 0x60, 0x82,
];

test_both_dbs! {
    async fn the_list_says_which_conversations_hold_an_unread_mention_of_me(engine) {
        let (_db, backend, people) = acme(engine).await;
        let (alice, bob, carol) = (&people[0], &people[1], &people[2]);
        let deals = group(&backend, alice, "Deals", &[bob, carol]).await;
        let row = |me: &Me| {
            let backend = backend.clone();
            let me = me.clone();
            async move { backend.conversation(&me, deals).await.unwrap() }
        };
        backend.send_message(alice, deals, text("@bob can you call Initech?"), None).await.unwrap();
        backend.send_message(alice, deals, text("and mail carol@acme.test"), None).await.unwrap();
        assert!(row(bob).await.mentions_me);
        assert!(!row(carol).await.mentions_me, "an address is not a mention");
        assert!(backend.conversations(bob).await.unwrap().iter().any(|c| c.id == deals && c.mentions_me));

        // Bob's own message naming him is no mention; reading clears it.
        backend.send_message(bob, deals, text("@Bob noted"), None).await.unwrap();
        assert!(!row(bob).await.mentions_me, "sending read everything before it");
        backend.send_message(alice, deals, text("@Bobby is someone else"), None).await.unwrap();
        assert!(!row(bob).await.mentions_me, "a name must end where the word does");
        backend.send_message(alice, deals, text("@Bob, one more thing"), None).await.unwrap();
        assert!(row(bob).await.mentions_me);
        backend.mark_read(bob, deals, None).await.unwrap();
        assert!(!row(bob).await.mentions_me);

        // `@all` and `@everyone` mention every member; `@allison` nobody.
        backend.send_message(alice, deals, text("@allison may know"), None).await.unwrap();
        assert!(!row(bob).await.mentions_me);
        backend.send_message(alice, deals, text("Thanks @EVERYONE"), None).await.unwrap();
        assert!(row(bob).await.mentions_me && row(carol).await.mentions_me);
    }

    async fn a_direct_conversation_is_created_once_even_when_calls_race(engine) {
        let (_db, backend, p) = acme(engine).await;
        let (alice, bob) = (p[0].clone(), p[1].clone());
        let mut calls = Vec::new();
        for i in 0..10 {
            let (backend, a, b) = (backend.clone(), alice.clone(), bob.clone());
            calls.push(tokio::spawn(async move {
                if i % 2 == 0 { backend.direct_conversation(&a, b.id).await } else { backend.direct_conversation(&b, a.id).await }
            }));
        }
        let mut ids = HashSet::new();
        for call in calls {
            ids.insert(call.await.unwrap().unwrap());
        }
        assert_eq!(ids.len(), 1);
        assert_eq!(count(&backend, "SELECT COUNT(*) FROM conversations").await, 1);
        assert_eq!(count(&backend, "SELECT COUNT(*) FROM participants").await, 2);
    }

    async fn a_direct_conversation_with_another_organisation_is_not_found(engine) {
        let (_db, backend, p) = acme(engine).await;
        let globex = people(&backend, "Globex", &["Grace"]).await;
        assert!(matches!(backend.direct_conversation(&p[0], globex[0].id).await, Err(Error::NotFound)));
        assert!(matches!(backend.direct_conversation(&globex[0], p[0].id).await, Err(Error::NotFound)));
    }

    async fn a_group_admin_adds_removes_renames_and_changes_roles(engine) {
        let (_db, backend, p) = acme(engine).await;
        let (alice, bob, carol) = (&p[0], &p[1], &p[2]);
        let id = group(&backend, alice, "Deals", &[bob]).await;

        backend.add_participants(alice, id, vec![carol.id]).await.unwrap();
        backend.rename_conversation(alice, id, "Big deals").await.unwrap();
        backend.set_participant_role(alice, id, bob.id, ParticipantRole::Moderator).await.unwrap();
        let summary = backend.conversation(carol, id).await.unwrap();
        assert_eq!(summary.title, "Big deals");
        let bob_role = summary.participants.iter().find(|m| m.user_id == bob.id).unwrap().role;
        assert_eq!(bob_role, ParticipantRole::Moderator);

        backend.remove_participant(alice, id, carol.id).await.unwrap();
        assert!(matches!(backend.conversation(carol, id).await, Err(Error::NotFound)));
        assert_eq!(
            history_texts(&backend, alice, id).await,
            vec![
                "Alice created the group “Deals”",
                "Alice added Carol",
                "Alice renamed the group to “Big deals”",
                "Alice made Bob a moderator",
                "Alice removed Carol",
            ]
        );
    }

    async fn members_cannot_administer_a_group(engine) {
        let (_db, backend, p) = acme(engine).await;
        let (alice, bob, carol) = (&p[0], &p[1], &p[2]);
        let id = group(&backend, alice, "Deals", &[bob, carol]).await;
        assert!(matches!(backend.add_participants(bob, id, vec![p[3].id]).await, Err(Error::Forbidden(_))));
        assert!(matches!(backend.rename_conversation(bob, id, "Mine").await, Err(Error::Forbidden(_))));
        assert!(matches!(backend.set_participant_role(bob, id, carol.id, ParticipantRole::Admin).await, Err(Error::Forbidden(_))));
        assert!(matches!(backend.remove_participant(bob, id, carol.id).await, Err(Error::Forbidden(_))));
        // ...and someone outside it cannot even see it.
        assert!(matches!(backend.rename_conversation(&p[3], id, "Mine").await, Err(Error::NotFound)));
    }

    async fn a_moderator_deletes_others_messages_and_a_member_cannot(engine) {
        let (_db, backend, p) = acme(engine).await;
        let (alice, bob, carol) = (&p[0], &p[1], &p[2]);
        let id = group(&backend, alice, "Deals", &[bob, carol]).await;
        let message = backend.send_message(carol, id, text("spam"), None).await.unwrap();
        assert!(matches!(backend.delete_message(bob, message.id).await, Err(Error::Forbidden(_))));
        backend.set_participant_role(alice, id, bob.id, ParticipantRole::Moderator).await.unwrap();
        let tombstone = backend.delete_message(bob, message.id).await.unwrap();
        assert!(tombstone.deleted_at.is_some());
        assert_eq!(tombstone.content, "");
    }

    async fn members_leave_and_the_last_admin_leaving_promotes_the_oldest_member(engine) {
        let (_db, backend, p) = acme(engine).await;
        let (alice, bob, carol) = (&p[0], &p[1], &p[2]);
        let id = group(&backend, alice, "Deals", &[bob]).await;
        backend.add_participants(alice, id, vec![carol.id]).await.unwrap();

        backend.leave_conversation(carol, id).await.unwrap();
        assert!(matches!(backend.conversation(carol, id).await, Err(Error::NotFound)));

        backend.add_participants(alice, id, vec![carol.id]).await.unwrap();
        backend.leave_conversation(alice, id).await.unwrap();
        let summary = backend.conversation(bob, id).await.unwrap();
        assert_eq!(summary.my_role, ParticipantRole::Admin, "Bob joined before Carol");
        let carol_role = summary.participants.iter().find(|m| m.user_id == carol.id).unwrap().role;
        assert_eq!(carol_role, ParticipantRole::Member);
        assert_eq!(history_texts(&backend, bob, id).await.last().unwrap(), "Bob is now an admin");
    }

    async fn only_organisation_admins_broadcast_and_everyone_else_reads_and_reacts(engine) {
        let (_db, backend, p) = acme(engine).await;
        let (alice, bob) = (&p[0], &p[1]);
        let request = |title: &str| CreateConversation {
            kind: Some(ConversationKind::Broadcast),
            title: Some(title.into()),
            ..Default::default()
        };
        assert!(matches!(backend.create_conversation(bob, request("Mine")).await, Err(Error::Forbidden(_))));

        let broadcast = backend.create_conversation(alice, request("Announcements")).await.unwrap();
        assert_eq!(broadcast.participant_count, 4, "the whole organisation");
        assert!(broadcast.participants.is_empty(), "the list does not carry the whole organisation");
        let news = backend.send_message(alice, broadcast.id, text("Office closed Friday"), None).await.unwrap();

        let for_bob = backend.conversation(bob, broadcast.id).await.unwrap();
        assert!(!for_bob.can_post);
        assert_eq!(for_bob.unread_count, 1);
        assert!(matches!(backend.send_message(bob, broadcast.id, text("me too"), None).await, Err(Error::Forbidden(_))));
        let reacted = backend.toggle_reaction(bob, news.id, "👍").await.unwrap();
        assert_eq!(reacted.reactions[0].count, 1);

        // Someone who joins the organisation later is in it too, with the old news read.
        let hash = backend.passwords.hash("x").await.unwrap();
        let eve = backend.create_user_with_hash(alice.org_id, "eve@acme.test", "Eve", &hash, crate::protocol::OrgRole::Member).await.unwrap();
        let (eve, _) = crate::backend::db::users::me(&backend.db, eve).await.unwrap().unwrap();
        let for_eve = backend.conversation(&eve, broadcast.id).await.unwrap();
        assert_eq!(for_eve.unread_count, 0);
        // Other organisations never see it.
        let globex = people(&backend, "Globex", &["Grace"]).await;
        assert!(matches!(backend.conversation(&globex[0], broadcast.id).await, Err(Error::NotFound)));
    }

    async fn the_list_is_sorted_by_activity_with_titles_previews_unread_and_presence(engine) {
        let (_db, backend, p) = acme(engine).await;
        let (alice, bob, carol) = (&p[0], &p[1], &p[2]);
        let with_bob = backend.direct_conversation(alice, bob.id).await.unwrap();
        let with_carol = backend.direct_conversation(alice, carol.id).await.unwrap();
        let team = group(&backend, alice, "Team", &[bob, carol]).await;
        backend.send_message(bob, with_bob, text("first"), None).await.unwrap();
        backend.send_message(carol, team, text("hello team"), None).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        backend.send_message(carol, with_carol, text("newest\nnews"), None).await.unwrap();

        let list = backend.conversations(alice).await.unwrap();
        let titles: Vec<&str> = list.iter().map(|c| c.title.as_str()).collect();
        assert_eq!(titles, vec!["Carol", "Team", "Bob"]);
        let newest = &list[0];
        assert_eq!(newest.unread_count, 1);
        let preview = newest.last_message.as_ref().unwrap();
        assert_eq!((preview.text.as_str(), preview.sender_name.as_str()), ("newest news", "Carol"));
        assert_eq!(newest.last_event_seq, 1);
        assert_eq!(newest.participants.len(), 2);
        assert!(newest.participants.iter().all(|m| !m.is_online && m.last_seen_at.is_none()));
        assert_eq!(list[1].last_event_seq, 2, "the group's creation is event 1");
    }

    async fn a_pinned_conversation_heads_its_pinner_s_list_until_unpinned(engine) {
        let (_db, backend, p) = acme(engine).await;
        let (alice, bob, carol, dave) = (&p[0], &p[1], &p[2], &p[3]);
        let with_bob = backend.direct_conversation(alice, bob.id).await.unwrap();
        let with_carol = backend.direct_conversation(alice, carol.id).await.unwrap();
        let team = group(&backend, alice, "Team", &[bob, carol]).await;
        // Activity is by the millisecond: a pause between sends orders them.
        let pause = || tokio::time::sleep(std::time::Duration::from_millis(3));
        backend.send_message(bob, with_bob, text("oldest"), None).await.unwrap();
        pause().await;
        backend.send_message(carol, team, text("hello team"), None).await.unwrap();
        pause().await;
        backend.send_message(carol, with_carol, text("newest"), None).await.unwrap();
        let titles = |me: &Me| {
            let (backend, me) = (backend.clone(), me.clone());
            async move {
                let list = backend.conversations(&me).await.unwrap();
                list.into_iter().map(|c| c.title).collect::<Vec<_>>()
            }
        };
        assert_eq!(titles(alice).await, ["Carol", "Team", "Bob"]);

        let mut feed = backend.hub.subscribe();
        let row = backend.set_conversation_pinned(alice, with_bob, true).await.unwrap();
        assert!(row.pinned_at.is_some());
        match feed.try_recv().expect("an event").as_ref() {
            ChatEvent::ConversationChanged { conversation_id, members, .. } => {
                assert_eq!((*conversation_id, members.as_ref()), (with_bob, &[alice.id][..]));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(titles(alice).await, ["Bob", "Carol", "Team"]);
        assert_eq!(titles(bob).await[0], "Team", "pins are the pinner's own");
        pause().await;
        backend.set_conversation_pinned(alice, team, true).await.unwrap();
        assert_eq!(titles(alice).await, ["Team", "Bob", "Carol"], "the newest pin first");
        pause().await;
        let again = backend.set_conversation_pinned(alice, with_bob, true).await.unwrap();
        assert_eq!(again.pinned_at, row.pinned_at, "pinning again keeps the place");
        backend.send_message(carol, with_carol, text("newer still"), None).await.unwrap();
        assert_eq!(titles(alice).await, ["Team", "Bob", "Carol"]);

        let unpinned = backend.set_conversation_pinned(alice, team, false).await.unwrap();
        assert_eq!(unpinned.pinned_at, None);
        assert_eq!(titles(alice).await, ["Bob", "Carol", "Team"]);
        assert!(matches!(
            backend.set_conversation_pinned(dave, team, true).await,
            Err(Error::NotFound)
        ));
    }

    async fn a_conversation_marked_as_unread_stays_marked_for_its_marker_until_opened(engine) {
        let (_db, backend, p) = acme(engine).await;
        let (alice, bob, dave) = (&p[0], &p[1], &p[3]);
        let id = backend.direct_conversation(alice, bob.id).await.unwrap();
        backend.send_message(bob, id, text("the Initech quote"), None).await.unwrap();
        backend.mark_read(alice, id, None).await.unwrap();

        let mut feed = backend.hub.subscribe();
        let marked = backend.set_conversation_marked_unread(alice, id, true).await.unwrap();
        assert!(marked.marked_unread);
        assert_eq!(marked.unread_count, 0, "the count is what is unread, not the mark");
        assert!(matches!(
            feed.try_recv().expect("an event").as_ref(),
            ChatEvent::ConversationChanged { members, .. } if members.as_ref() == [alice.id]
        ));
        assert!(backend.conversations(alice).await.unwrap()[0].marked_unread);
        assert!(!backend.conversation(bob, id).await.unwrap().marked_unread, "the marker's own");
        assert!(backend.conversation(alice, id).await.unwrap().marked_unread, "reading the row keeps it");

        let opened = backend.open_conversation(alice, id).await.unwrap();
        assert!(!opened.row.marked_unread);
        assert_eq!(opened.marked_from_seq, None, "a mark of the whole conversation");
        assert!(!backend.conversation(alice, id).await.unwrap().marked_unread);
        assert!(feed.try_recv().is_ok(), "the other tabs hear that it was cleared");
        backend.open_conversation(alice, id).await.unwrap();
        assert!(feed.try_recv().is_err(), "opening an unmarked one tells nobody");
        assert!(matches!(
            backend.set_conversation_marked_unread(dave, id, true).await,
            Err(Error::NotFound)
        ));
        assert!(matches!(backend.open_conversation(dave, id).await, Err(Error::NotFound)));
    }

    async fn marking_unread_from_a_message_counts_from_it_for_the_marker_alone_until_opened(engine) {
        let (_db, backend, p) = acme(engine).await;
        let (alice, bob, carol, dave) = (&p[0], &p[1], &p[2], &p[3]);
        let id = group(&backend, alice, "Deals", &[bob, carol]).await;
        let mut sent = Vec::new();
        for (who, words) in [(bob, "the Initech quote"), (alice, "thanks"), (bob, "and the invoice"), (carol, "signed")] {
            sent.push(backend.send_message(who, id, text(words), None).await.unwrap());
        }
        backend.mark_read(alice, id, None).await.unwrap();

        // From Bob's quote: it, Bob's invoice and Carol's "signed" (not
        // Alice's own "thanks"); her receipts stay where they were.
        let mut feed = backend.hub.subscribe();
        let marked = backend.mark_unread_from(alice, sent[0].id).await.unwrap();
        assert!(marked.marked_unread);
        assert_eq!((marked.unread_count, marked.marked_unread_from_seq), (3, Some(sent[0].seq)));
        assert_eq!(marked.my_last_read_seq, sent[3].seq, "the read cursor does not move back");
        assert!(matches!(
            feed.try_recv().expect("an event").as_ref(),
            ChatEvent::ConversationChanged { members, .. } if members.as_ref() == [alice.id]
        ));
        assert!(feed.try_recv().is_err(), "the others hear nothing");
        let seen_by_bob = backend.conversation(bob, id).await.unwrap();
        let alice_there = seen_by_bob.participants.iter().find(|m| m.user_id == alice.id).unwrap();
        assert_eq!(alice_there.last_read_seq, sent[3].seq, "Bob still sees that Alice read it all");
        assert_eq!(seen_by_bob.marked_unread_from_seq, None, "the marker's own");

        // New messages add to the count; a deleted one in the marked range
        // comes off it; reading on (another tab) keeps the mark.
        backend.send_message(carol, id, text("filed"), None).await.unwrap();
        backend.delete_message(bob, sent[2].id).await.unwrap();
        backend.mark_read(alice, id, None).await.unwrap();
        assert_eq!(backend.conversation(alice, id).await.unwrap().unread_count, 3);

        // Opening clears it and says where it started.
        let opened = backend.open_conversation(alice, id).await.unwrap();
        assert_eq!(opened.marked_from_seq, Some(sent[0].seq));
        assert_eq!((opened.row.unread_count, opened.row.marked_unread, opened.row.marked_unread_from_seq), (0, false, None));

        // Sending in it ends a mark too.
        let marked = backend.mark_unread_from(alice, sent[3].id).await.unwrap();
        assert_eq!(marked.unread_count, 2, "Carol's two");
        backend.send_message(alice, id, text("on it"), None).await.unwrap();
        let after_send = backend.conversation(alice, id).await.unwrap();
        assert_eq!((after_send.unread_count, after_send.marked_unread, after_send.marked_unread_from_seq), (0, false, None));

        // Not hers to mark: another's conversation, a deleted message.
        let direct = backend.direct_conversation(bob, dave.id).await.unwrap();
        let private = backend.send_message(dave, direct, text("between us"), None).await.unwrap();
        assert!(matches!(backend.mark_unread_from(alice, private.id).await, Err(Error::NotFound)));
        assert!(matches!(backend.mark_unread_from(alice, sent[2].id).await, Err(Error::MessageDeleted)));
    }

    async fn a_thread_opens_reaching_back_to_its_first_unread_message_up_to_two_hundred(engine) {
        let (_db, backend, p) = acme(engine).await;
        let (alice, bob) = (&p[0], &p[1]);
        let id = backend.direct_conversation(alice, bob.id).await.unwrap();
        let mut sent = Vec::new();
        let mut send = async |count: usize| {
            for i in 0..count {
                sent.push(backend.send_message(bob, id, text(&format!("update {i}")), None).await.unwrap());
            }
            sent.last().unwrap().seq
        };
        let opening = async |marked: Option<i64>| {
            let opened = backend.open_conversation(alice, id).await.unwrap();
            assert_eq!(opened.marked_from_seq, marked);
            let page = backend.opening_page(alice, &opened).await.unwrap();
            let seqs: Vec<i64> = page.messages.iter().map(|m| m.seq).collect();
            (seqs.first().copied(), seqs.last().copied(), seqs.len(), page.has_more)
        };

        let newest = send(60).await;
        backend.mark_read(alice, id, None).await.unwrap();
        assert_eq!(opening(None).await, (Some(11), Some(newest), 50, true), "all read: the newest page");

        let newest = send(100).await;
        assert_eq!(
            opening(None).await,
            (Some(56), Some(newest), 105, true),
            "the 100 unread and the 5 read before them"
        );

        backend.mark_read(alice, id, None).await.unwrap();
        let newest = send(100).await;
        backend.mark_unread_from(alice, sent[0].id).await.unwrap();
        assert_eq!(
            opening(Some(sent[0].seq)).await,
            (Some(newest - 199), Some(newest), 200, true),
            "260 unread from the mark: the newest 200, older pages for the rest"
        );
    }

    async fn marking_a_conversation_as_read_reads_it_all_and_clears_the_mark(engine) {
        let (_db, backend, p) = acme(engine).await;
        let (alice, bob, dave) = (&p[0], &p[1], &p[3]);
        let id = backend.direct_conversation(alice, bob.id).await.unwrap();
        for words in ["the Initech quote", "and the invoice"] {
            backend.send_message(bob, id, text(words), None).await.unwrap();
        }
        backend.set_conversation_marked_unread(alice, id, true).await.unwrap();
        assert_eq!(backend.conversation(alice, id).await.unwrap().unread_count, 2);

        let read = backend.read_conversation(alice, id).await.unwrap();
        assert_eq!((read.unread_count, read.marked_unread), (0, false));
        assert_eq!(read.my_last_read_seq, 2);
        let seen_by_bob = backend.conversation(bob, id).await.unwrap();
        let alice_there = seen_by_bob.participants.iter().find(|m| m.user_id == alice.id).unwrap();
        assert_eq!(alice_there.last_read_seq, 2, "Bob sees that Alice read both");
        assert!(matches!(backend.read_conversation(dave, id).await, Err(Error::NotFound)));
    }

    async fn contacts_are_the_caller_s_organisation_searchable_by_name(engine) {
        let (_db, backend, p) = acme(engine).await;
        people(&backend, "Globex", &["Carla"]).await;
        let names = |list: Vec<crate::protocol::UserSummary>| list.into_iter().map(|u| u.display_name).collect::<Vec<_>>();
        assert_eq!(names(backend.contacts(&p[0], "").await.unwrap()), vec!["Bob", "Carol", "Dave"]);
        assert_eq!(names(backend.contacts(&p[0], "CAR").await.unwrap()), vec!["Carol"]);
        assert_eq!(names(backend.contacts(&p[0], "%").await.unwrap()), Vec::<String>::new());
    }

    async fn message_bodies_are_validated_and_nothing_is_stored_for_a_bad_one(engine) {
        let (_db, backend, p) = acme(engine).await;
        let id = backend.direct_conversation(&p[0], p[1].id).await.unwrap();
        let too_long = "x".repeat(4001);
        assert!(matches!(backend.send_message(&p[0], id, text("  \n "), None).await, Err(Error::EmptyMessage)));
        assert!(matches!(backend.send_message(&p[0], id, text(&too_long), None).await, Err(Error::MessageTooLong { .. })));
        assert!(matches!(backend.send_message(&p[0], id, text("bell\u{7}"), None).await, Err(Error::InvalidInput(_))));
        let bad_id = SendMessage { client_msg_id: Some("nope".into()), ..text("hi") };
        assert!(matches!(backend.send_message(&p[0], id, bad_id, None).await, Err(Error::InvalidInput(_))));
        assert_eq!(count(&backend, "SELECT COUNT(*) FROM messages").await, 0);
        assert!(matches!(backend.send_message(&p[2], id, text("not mine"), None).await, Err(Error::NotFound)));
    }

    async fn a_reply_quotes_a_message_of_the_same_conversation_only(engine) {
        let (_db, backend, p) = acme(engine).await;
        let here = backend.direct_conversation(&p[0], p[1].id).await.unwrap();
        let elsewhere = backend.direct_conversation(&p[0], p[2].id).await.unwrap();
        let question = backend.send_message(&p[1], here, text("Can you call the client?"), None).await.unwrap();
        let other = backend.send_message(&p[0], elsewhere, text("unrelated"), None).await.unwrap();

        let wrong = SendMessage { reply_to: Some(other.id), ..text("sure") };
        assert!(matches!(backend.send_message(&p[0], here, wrong, None).await, Err(Error::InvalidInput(_))));
        let reply = SendMessage { reply_to: Some(question.id), ..text("Sure, at 3") };
        let answer = backend.send_message(&p[0], here, reply, None).await.unwrap();
        let quoted = answer.reply_to.unwrap();
        assert_eq!((quoted.message_id, quoted.sender_name.as_str()), (question.id, "Bob"));
        assert_eq!(quoted.text, "Can you call the client?");
    }

    async fn a_retried_send_returns_the_stored_message_and_stores_nothing(engine) {
        let (_db, backend, p) = acme(engine).await;
        let id = backend.direct_conversation(&p[0], p[1].id).await.unwrap();
        let first = text("once");
        let stored = backend.send_message(&p[0], id, first.clone(), None).await.unwrap();
        let retried = backend.send_message(&p[0], id, first.clone(), None).await.unwrap();
        assert_eq!((retried.id, retried.seq, retried.content.as_str()), (stored.id, stored.seq, "once"));
        assert_eq!(count(&backend, "SELECT COUNT(*) FROM messages").await, 1);

        // The same id for another conversation is a client bug, and says so.
        let other = backend.direct_conversation(&p[0], p[2].id).await.unwrap();
        assert!(matches!(backend.send_message(&p[0], other, first.clone(), None).await, Err(Error::ClientMsgIdReused)));
        // Another sender may happen to use the same id.
        let bobs = backend.send_message(&p[1], id, first, None).await.unwrap();
        assert_ne!(bobs.id, stored.id);
    }

    async fn racing_retries_of_one_send_store_one_message(engine) {
        let (_db, backend, p) = acme(engine).await;
        let id = backend.direct_conversation(&p[0], p[1].id).await.unwrap();
        let send = text("raced");
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let (backend, me, send) = (backend.clone(), p[0].clone(), send.clone());
            tasks.push(tokio::spawn(async move { backend.send_message(&me, id, send, None).await }));
        }
        let mut ids = HashSet::new();
        for task in tasks {
            ids.insert(task.await.unwrap().unwrap().id);
        }
        assert_eq!(ids.len(), 1);
        assert_eq!(count(&backend, "SELECT COUNT(*) FROM messages").await, 1);
    }

    async fn history_pages_backwards_by_seq(engine) {
        let (_db, backend, p) = acme(engine).await;
        let id = backend.direct_conversation(&p[0], p[1].id).await.unwrap();
        for i in 1..=120 {
            backend.send_message(&p[i % 2], id, text(&format!("m{i}")), None).await.unwrap();
        }
        let seqs = |page: &crate::protocol::MessagePage| page.messages.iter().map(|m| m.seq).collect::<Vec<_>>();
        let newest = backend.messages(&p[0], id, None, Some(50)).await.unwrap();
        assert_eq!(seqs(&newest), (71..=120).collect::<Vec<_>>());
        assert!(newest.has_more);
        let middle = backend.messages(&p[0], id, Some(71), Some(50)).await.unwrap();
        assert_eq!(seqs(&middle), (21..=70).collect::<Vec<_>>());
        let oldest = backend.messages(&p[0], id, Some(21), Some(50)).await.unwrap();
        assert_eq!(seqs(&oldest), (1..=20).collect::<Vec<_>>());
        assert!(!oldest.has_more);
        assert_eq!(backend.messages(&p[0], id, None, Some(500)).await.unwrap().messages.len(), 100);
        assert!(matches!(backend.messages(&p[2], id, None, None).await, Err(Error::NotFound)));
    }

    async fn only_the_sender_edits_and_only_within_24_hours(engine) {
        let (_db, backend, p) = acme(engine).await;
        let id = backend.direct_conversation(&p[0], p[1].id).await.unwrap();
        let message = backend.send_message(&p[0], id, text("teh plan"), None).await.unwrap();
        assert!(matches!(backend.edit_message(&p[1], message.id, "hijack").await, Err(Error::Forbidden(_))));

        let edited = backend.edit_message(&p[0], message.id, "the plan").await.unwrap();
        assert_eq!(edited.content, "the plan");
        assert!(edited.edited_at.is_some());
        assert_eq!(edited.event_seq, message.event_seq + 1);

        sqlx::query("UPDATE messages SET created_at = created_at - 25 * 3600 * 1000 WHERE id = $1")
            .bind(message.id)
            .execute(backend.db.pool())
            .await
            .unwrap();
        assert!(matches!(backend.edit_message(&p[0], message.id, "later").await, Err(Error::EditWindowClosed)));
    }

    async fn a_deleted_message_disappears_from_every_read_path(engine) {
        let (_db, backend, p) = acme(engine).await;
        let (alice, bob) = (&p[0], &p[1]);
        let id = backend.direct_conversation(alice, bob.id).await.unwrap();
        let secret = backend.send_message(alice, id, text("the secret merger plan"), None).await.unwrap();
        let reply = SendMessage { reply_to: Some(secret.id), ..text("wow") };
        backend.send_message(bob, id, reply, None).await.unwrap();
        backend.writer.index_search().await.unwrap();
        assert_eq!(backend.search(bob, "merger").await.unwrap().len(), 1);

        assert!(matches!(backend.delete_message(bob, secret.id).await, Err(Error::Forbidden(_))));
        backend.delete_message(alice, secret.id).await.unwrap();

        let history = backend.messages(bob, id, None, None).await.unwrap().messages;
        assert_eq!(history[0].content, "");
        assert!(history[0].deleted_at.is_some());
        let quoted = history[1].reply_to.as_ref().unwrap();
        assert!(quoted.is_deleted && quoted.text.is_empty());
        let changes = backend.changes_since(bob, id, 0).await.unwrap();
        assert!(changes.messages.iter().all(|m| !m.content.contains("merger")));
        assert!(backend.search(bob, "merger").await.unwrap().is_empty());
        let stored: String = sqlx::query_scalar("SELECT body FROM messages WHERE id = $1")
            .bind(secret.id)
            .fetch_one(backend.db.pool())
            .await
            .unwrap();
        assert_eq!(stored, "", "the text is erased, not hidden");
        assert_eq!(history.len(), 2, "the tombstone keeps its place");
    }

    async fn reactions_toggle_one_per_user_per_emoji(engine) {
        let (_db, backend, p) = acme(engine).await;
        let (alice, bob, carol) = (&p[0], &p[1], &p[2]);
        let id = group(&backend, alice, "Team", &[bob, carol]).await;
        let message = backend.send_message(alice, id, text("Closed the deal!"), None).await.unwrap();
        backend.toggle_reaction(bob, message.id, "👍").await.unwrap();
        backend.toggle_reaction(carol, message.id, "👍").await.unwrap();
        let after = backend.toggle_reaction(bob, message.id, "🎉").await.unwrap();
        assert_eq!(after.reactions.len(), 2);
        // Reactions made in the same millisecond have no order of their own,
        // so each is looked up by its emoji.
        let thumbs = |m: &crate::protocol::Message| {
            let r = m.reactions.iter().find(|r| r.emoji == "👍").expect("a 👍 reaction");
            (r.count, r.me)
        };
        assert_eq!(thumbs(&after), (2, true));

        let undone = backend.toggle_reaction(bob, message.id, "👍").await.unwrap();
        assert_eq!(thumbs(&undone), (1, false));
        let for_carol = backend.messages(carol, id, None, None).await.unwrap().messages;
        let seen = for_carol.iter().find(|m| m.id == message.id).unwrap();
        assert_eq!(thumbs(seen), (1, true), "me is computed for each viewer");
        assert!(matches!(backend.toggle_reaction(bob, message.id, "like").await, Err(Error::InvalidInput(_))));
        assert!(matches!(backend.toggle_reaction(&p[3], message.id, "👍").await, Err(Error::NotFound)));
    }

    async fn a_pin_is_shared_listed_last_pinned_first_and_a_delete_unpins(engine) {
        let (_db, backend, p) = acme(engine).await;
        let (alice, bob, carol, dave) = (&p[0], &p[1], &p[2], &p[3]);
        let id = group(&backend, alice, "Team", &[bob, carol]).await;
        let terms = backend.send_message(alice, id, text("Terms: net 30"), None).await.unwrap();
        let call = backend.send_message(carol, id, text("Call Friday 10:00"), None).await.unwrap();
        let mut feed = backend.hub.subscribe();

        let pinned = backend.pin_message(bob, terms.id, true).await.unwrap();
        let pin = pinned.pinned.clone().expect("pinned");
        assert_eq!((pin.by.user_id, pin.by.name.as_str()), (bob.id, "Bob"));
        assert!(pinned.event_seq > call.event_seq, "a pin is a change of its own");
        match feed.try_recv().as_deref() {
            Ok(ChatEvent::MessageChanged { message, change, members, .. }) => {
                assert_eq!((message.id, *change), (terms.id, crate::backend::chat::events::MessageChange::Pinned));
                assert_eq!(members.len(), 3);
            }
            other => panic!("expected the pin's event, got {other:?}"),
        }
        let again = backend.pin_message(alice, terms.id, true).await.unwrap();
        assert_eq!(again.event_seq, pinned.event_seq, "pinning twice is pinning once");
        assert_eq!(again.pinned.unwrap().by.user_id, bob.id);
        assert!(feed.try_recv().is_err(), "and announces nothing");

        backend.pin_message(carol, call.id, true).await.unwrap();
        let listed = |list: Vec<crate::protocol::Message>| list.into_iter().map(|m| m.content).collect::<Vec<_>>();
        assert_eq!(listed(backend.pinned_messages(alice, id).await.unwrap()), ["Call Friday 10:00", "Terms: net 30"]);
        let opened = backend.open_conversation(alice, id).await.unwrap();
        assert_eq!(listed(backend.opening_pins(alice, &opened).await.unwrap()), ["Call Friday 10:00", "Terms: net 30"], "a thread opens with them");
        let replay = backend.changes_since(alice, id, call.event_seq).await.unwrap();
        assert!(replay.messages.iter().all(|m| m.pinned.is_some()), "a resume carries the pins");

        let unpinned = backend.pin_message(alice, call.id, false).await.unwrap();
        assert!(unpinned.pinned.is_none());
        assert_eq!(listed(backend.pinned_messages(carol, id).await.unwrap()), ["Terms: net 30"]);
        let deleted = backend.delete_message(alice, terms.id).await.unwrap();
        assert!(deleted.pinned.is_none(), "a tombstone is not pinned");
        assert!(backend.pinned_messages(bob, id).await.unwrap().is_empty());
        assert!(matches!(backend.pin_message(bob, terms.id, true).await, Err(Error::MessageDeleted)));

        // Outsiders see nothing of it, as if it did not exist.
        assert!(matches!(backend.pin_message(dave, call.id, true).await, Err(Error::NotFound)));
        assert!(matches!(backend.pinned_messages(dave, id).await, Err(Error::NotFound)));
        let globex = people(&backend, "Globex", &["Grace"]).await;
        assert!(matches!(backend.pin_message(&globex[0], call.id, true).await, Err(Error::NotFound)));
    }

    async fn a_conversation_holds_twenty_pins_and_only_broadcast_admins_pin_there(engine) {
        let (_db, backend, p) = acme(engine).await;
        let (alice, bob) = (&p[0], &p[1]);
        let id = backend.direct_conversation(alice, bob.id).await.unwrap();
        let mut sent = Vec::new();
        for i in 0..=crate::protocol::MAX_PINNED_MESSAGES {
            sent.push(backend.send_message(bob, id, text(&format!("m{i}")), None).await.unwrap());
        }
        for message in &sent[..sent.len() - 1] {
            backend.pin_message(alice, message.id, true).await.unwrap();
        }
        let last = sent.last().unwrap();
        assert!(matches!(backend.pin_message(bob, last.id, true).await, Err(Error::InvalidInput(_))));
        assert!(backend.messages(bob, id, None, None).await.unwrap().messages.last().unwrap().pinned.is_none(), "nothing changed");
        backend.pin_message(bob, sent[0].id, false).await.unwrap();
        backend.pin_message(bob, last.id, true).await.unwrap();
        let pins = backend.pinned_messages(alice, id).await.unwrap();
        assert_eq!(pins.len() as i64, crate::protocol::MAX_PINNED_MESSAGES);
        assert_eq!(pins[0].id, last.id, "the last pinned first");

        let request = CreateConversation {
            kind: Some(ConversationKind::Broadcast),
            title: Some("Announcements".into()),
            ..Default::default()
        };
        let broadcast = backend.create_conversation(alice, request).await.unwrap();
        let news = backend.send_message(alice, broadcast.id, text("Office closed Friday"), None).await.unwrap();
        assert!(matches!(backend.pin_message(bob, news.id, true).await, Err(Error::Forbidden(_))));
        assert!(backend.pin_message(alice, news.id, true).await.unwrap().pinned.is_some());
        assert_eq!(backend.pinned_messages(bob, broadcast.id).await.unwrap().len(), 1, "everyone sees it");
    }

    async fn reading_moves_the_cursor_forward_only(engine) {
        let (_db, backend, p) = acme(engine).await;
        let (alice, bob) = (&p[0], &p[1]);
        let id = backend.direct_conversation(alice, bob.id).await.unwrap();
        for i in 0..5 {
            backend.send_message(alice, id, text(&format!("m{i}")), None).await.unwrap();
        }
        assert_eq!(backend.conversation(bob, id).await.unwrap().unread_count, 5);
        let read = backend.mark_read(bob, id, Some(3)).await.unwrap();
        assert_eq!((read.last_read_seq, read.unread_count), (3, 2));
        let backwards = backend.mark_read(bob, id, Some(1)).await.unwrap();
        assert_eq!((backwards.last_read_seq, backwards.unread_count), (3, 2));
        let beyond = backend.mark_read(bob, id, Some(99)).await.unwrap();
        assert_eq!((beyond.last_read_seq, beyond.unread_count), (5, 0));
        assert!(beyond.last_delivered_seq >= 5, "what is read was delivered");
        // Sending is reading: Bob's reply leaves him nothing unread, and Alice one.
        backend.send_message(alice, id, text("one more"), None).await.unwrap();
        backend.send_message(bob, id, text("got it"), None).await.unwrap();
        assert_eq!(backend.conversation(bob, id).await.unwrap().unread_count, 0);
        assert_eq!(backend.conversation(alice, id).await.unwrap().unread_count, 1);
    }

    async fn every_change_bumps_the_event_counter_and_changes_since_replays_them(engine) {
        let (_db, backend, p) = acme(engine).await;
        let (alice, bob) = (&p[0], &p[1]);
        let id = backend.direct_conversation(alice, bob.id).await.unwrap();
        let m1 = backend.send_message(alice, id, text("one"), None).await.unwrap();
        let m2 = backend.send_message(bob, id, text("two"), None).await.unwrap();
        let m3 = backend.send_message(alice, id, text("three"), None).await.unwrap();
        assert_eq!((m1.event_seq, m2.event_seq, m3.event_seq), (1, 2, 3));
        backend.edit_message(alice, m1.id, "one!").await.unwrap();
        backend.toggle_reaction(alice, m2.id, "👍").await.unwrap();
        backend.delete_message(alice, m3.id).await.unwrap();

        let all = backend.changes_since(bob, id, 0).await.unwrap();
        assert_eq!(all.last_event_seq, 6);
        let seen: Vec<(i64, i64)> = all.messages.iter().map(|m| (m.seq, m.event_seq)).collect();
        assert_eq!(seen, vec![(1, 4), (2, 5), (3, 6)]);
        assert_eq!(all.messages[0].content, "one!");
        assert_eq!(all.messages[1].reactions[0].emoji, "👍");
        assert!(all.messages[2].deleted_at.is_some());

        let later = backend.changes_since(bob, id, 4).await.unwrap();
        assert_eq!(later.messages.iter().map(|m| m.seq).collect::<Vec<_>>(), vec![2, 3]);
        let none = backend.changes_since(bob, id, 6).await.unwrap();
        assert!(none.messages.is_empty());
        assert_eq!(none.last_event_seq, 6);
        assert!(matches!(backend.changes_since(bob, id, 7).await, Err(Error::CursorAhead { last_event_seq: 6, .. })));
        assert!(matches!(backend.changes_since(&p[2], id, 0).await, Err(Error::NotFound)));
    }

    async fn the_change_feed_pages_every_change_after_any_cursor_in_event_order(engine) {
        // New messages, edits, reactions and deletes interleaved, so that
        // created_event_seq drifts away from seq: every cursor, read in
        // pages of 1 to 4, gives exactly the messages whose event_seq is
        // after it, in event order, as history shows them now.
        let (_db, backend, p) = acme(engine).await;
        let (alice, bob) = (&p[0], &p[1]);
        let id = backend.direct_conversation(alice, bob.id).await.unwrap();
        let mut sent = Vec::new();
        let mut pick = 7_usize;
        for step in 0..48 {
            pick = (pick * 31 + 11) % 97;
            let author = if step % 3 == 0 { bob } else { alice };
            match step % 6 {
                0..=2 => sent.push(backend.send_message(author, id, text(&format!("m{step}")), None).await.unwrap()),
                3 if !sent.is_empty() => {
                    let target = &sent[pick % sent.len()];
                    let owner = if target.sender_id == alice.id { alice } else { bob };
                    // Deleted messages cannot be edited: that one is refused.
                    let _ = backend.edit_message(owner, target.id, &format!("edited at {step}")).await;
                }
                4 if !sent.is_empty() => {
                    // A deleted message takes no reaction: that one is refused.
                    let _ = backend.toggle_reaction(author, sent[pick % sent.len()].id, "👍").await;
                }
                5 if sent.len() > 4 => {
                    let target = &sent[pick % sent.len()];
                    let owner = if target.sender_id == alice.id { alice } else { bob };
                    backend.delete_message(owner, target.id).await.unwrap();
                }
                _ => {}
            }
        }
        let now = backend.messages(bob, id, None, Some(100)).await.unwrap().messages;
        let conversation = crate::backend::db::conversations::get(&mut backend.db.pool().acquire().await.unwrap(), id)
            .await
            .unwrap()
            .unwrap();
        let counters = (conversation.last_event_seq, conversation.last_message_seq);
        assert!(counters.0 > counters.1 + 10, "the script makes many changes besides messages: {counters:?}");
        let mut conn = backend.db.pool().acquire().await.unwrap();
        for cursor in 0..=counters.0 {
            let mut expected: Vec<(i64, i64)> = now.iter().filter(|m| m.event_seq > cursor).map(|m| (m.event_seq, m.seq)).collect();
            expected.sort();
            for limit in 1..=4 {
                let mut got = Vec::new();
                let mut position = cursor;
                loop {
                    let rows = crate::backend::db::messages::changed_since(&mut conn, id, counters, position, limit).await.unwrap();
                    assert!(rows.len() as i64 <= limit);
                    for row in &rows {
                        got.push((row.event_seq, row.seq));
                        position = row.event_seq;
                    }
                    if (rows.len() as i64) < limit {
                        break;
                    }
                }
                assert_eq!(got, expected, "cursor {cursor}, pages of {limit}");
            }
        }
    }

    async fn events_are_published_after_the_commit_in_event_order(engine) {
        let (_db, backend, p) = acme(engine).await;
        let id = backend.direct_conversation(&p[0], p[1].id).await.unwrap();
        let mut feed = backend.hub.subscribe();
        let mut sends = Vec::new();
        for i in 0..30 {
            let (backend, me) = (backend.clone(), p[i % 2].clone());
            sends.push(tokio::spawn(async move { backend.send_message(&me, id, text(&format!("m{i}")), None).await }));
        }
        for send in sends {
            send.await.unwrap().unwrap();
        }
        let mut event_seqs = Vec::new();
        while let Ok(event) = feed.try_recv() {
            if let ChatEvent::MessageCreated { message, members, .. } = event.as_ref() {
                assert_eq!(members.len(), 2);
                event_seqs.push(message.event_seq);
            }
        }
        assert_eq!(event_seqs, (1..=30).collect::<Vec<_>>());
    }

    async fn a_delivery_is_told_to_the_senders_it_covers_not_to_the_whole_group(engine) {
        let (_db, backend, p) = acme(engine).await;
        let (alice, bob, carol, dave) = (&p[0], &p[1], &p[2], &p[3]);
        let id = group(&backend, alice, "Team", &[bob, carol, dave]).await;
        let mut feed = backend.hub.subscribe();
        backend.send_message(alice, id, text("from Alice"), None).await.unwrap();
        let bobs = backend.send_message(bob, id, text("from Bob"), None).await.unwrap();
        backend.send_message(carol, id, text("from Carol"), None).await.unwrap();
        let last = backend.send_message(alice, id, text("Alice again"), None).await.unwrap();
        // Sending moved Carol's cursor to her own message; her devices now
        // got Alice's last one too. Dave's devices got up to Bob's.
        backend.writer.delivered(id, carol.id, last.seq);
        backend.writer.delivered(id, dave.id, bobs.seq);
        let mut told = std::collections::BTreeMap::new();
        tokio::time::timeout(std::time::Duration::from_secs(5), async {
            while told.len() < 2 {
                if let ChatEvent::Delivered { user_id, up_to_seq, audience, .. } = feed.recv().await.unwrap().as_ref() {
                    let mut audience = audience.to_vec();
                    audience.sort();
                    told.insert(*user_id, (*up_to_seq, audience));
                }
            }
        })
        .await
        .expect("the marks are recorded within the flush interval");
        assert_eq!(told[&carol.id], (last.seq, vec![alice.id]), "only Alice sent after Carol");
        let mut alice_and_bob = vec![alice.id, bob.id];
        alice_and_bob.sort();
        assert_eq!(told[&dave.id], (bobs.seq, alice_and_bob), "Alice and Bob sent up to there; Carol did not");
    }

    async fn unread_counts_always_equal_their_definition(engine) {
        use rand::{Rng, SeedableRng};
        let (_db, backend, p) = acme(engine).await;
        let id = group(&backend, &p[0], "Team", &[&p[1], &p[2], &p[3]]).await;
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let mut sent = Vec::new();
        for _ in 0..160 {
            let who = &p[rng.gen_range(0..4)];
            match rng.gen_range(0..13) {
                0..=5 => sent.push(backend.send_message(who, id, text("hi"), None).await.unwrap()),
                6..=7 => {
                    let up_to = rng.gen_range(0..=sent.len() as i64 + 1);
                    backend.mark_read(who, id, Some(up_to)).await.unwrap();
                }
                8..=9 if !sent.is_empty() => {
                    let from = &sent[rng.gen_range(0..sent.len())];
                    backend.mark_unread_from(who, from.id).await.unwrap();
                }
                10 => {
                    backend.open_conversation(who, id).await.unwrap();
                }
                _ => {
                    if let Some(m) = sent.iter().find(|m| m.sender_id == who.id && m.deleted_at.is_none()).cloned() {
                        backend.delete_message(who, m.id).await.unwrap();
                        sent.retain(|s| s.id != m.id);
                    }
                }
            }
            let rows: Vec<(crate::protocol::UserId, i64, i64, i64)> = sqlx::query_as(
                "SELECT user_id, last_read_seq, unread_from_seq, unread_count FROM participants WHERE conversation_id = $1",
            )
            .bind(id)
            .fetch_all(backend.db.pool())
            .await
            .unwrap();
            let mut conn = backend.db.pool().acquire().await.unwrap();
            for (user, last_read, from, stored) in rows {
                let after = participants::unread_after(last_read, from);
                let derived = participants::derived_unread(&mut conn, id, user, after).await.unwrap();
                assert_eq!(stored, derived, "user {user}");
            }
        }
    }

    async fn eight_senders_with_retries_store_exactly_1600_messages_without_gaps(engine) {
        let (_db, backend, p) = acme(engine).await;
        let id = backend.direct_conversation(&p[0], p[1].id).await.unwrap();
        let mut tasks = Vec::new();
        for task in 0..8 {
            let (backend, me) = (backend.clone(), p[task % 2].clone());
            tasks.push(tokio::spawn(async move {
                for i in 0..200 {
                    let send = text(&format!("task {task} message {i}"));
                    if i % 2 == 0 {
                        // A retry racing the first attempt.
                        let (a, b) = tokio::join!(
                            backend.send_message(&me, id, send.clone(), None),
                            backend.send_message(&me, id, send.clone(), None),
                        );
                        let (a, b) = (a.unwrap(), b.unwrap());
                        assert_eq!((a.id, a.seq), (b.id, b.seq));
                    } else {
                        backend.send_message(&me, id, send, None).await.unwrap();
                    }
                }
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        let seqs: Vec<i64> = sqlx::query_scalar("SELECT seq FROM messages WHERE conversation_id = $1 ORDER BY seq")
            .bind(id)
            .fetch_all(backend.db.pool())
            .await
            .unwrap();
        assert_eq!(seqs, (1..=1600).collect::<Vec<i64>>());
        let summary = backend.conversation(&p[0], id).await.unwrap();
        assert_eq!((summary.last_message_seq, summary.last_event_seq), (1600, 1600));
    }

    async fn a_burst_of_queued_sends_is_stored_in_order_and_each_answer_is_its_own_row(engine) {
        // 150 sends queued before any is awaited: the writer takes them in
        // large batches, and each answer must still be matched to its own row.
        let (_db, backend, p) = acme(engine).await;
        let id = backend.direct_conversation(&p[0], p[1].id).await.unwrap();
        let mut answers = Vec::new();
        for i in 1..=150 {
            let send = text(&format!("burst {i}"));
            answers.push(backend.enqueue_send(&p[0], id, send, None).await.unwrap());
        }
        for (i, answer) in (1..=150).zip(answers) {
            let Ok(Outcome::Message(message)) = answer.await else {
                panic!("send {i} was not stored");
            };
            assert_eq!((message.seq, message.content.as_str()), (i, format!("burst {i}").as_str()));
            let (seq, body): (i64, String) =
                sqlx::query_as("SELECT seq, body FROM messages WHERE id = $1")
                    .bind(message.id)
                    .fetch_one(backend.db.pool())
                    .await
                    .unwrap();
            assert_eq!((seq, body), (i, format!("burst {i}")));
        }
        let newest: Vec<String> = (51..=150).map(|i| format!("burst {i}")).collect();
        assert_eq!(history_texts(&backend, &p[1], id).await, newest);
    }

    async fn search_finds_words_in_the_caller_s_conversations_only(engine) {
        let (_db, backend, p) = acme(engine).await;
        let mine = backend.direct_conversation(&p[0], p[1].id).await.unwrap();
        let theirs = backend.direct_conversation(&p[2], p[3].id).await.unwrap();
        backend.send_message(&p[1], mine, text("The quarterly invoice for Acme is attached"), None).await.unwrap();
        backend.send_message(&p[2], theirs, text("invoice for Globex"), None).await.unwrap();
        backend.send_message(&p[0], mine, text("lunch?"), None).await.unwrap();
        backend.writer.index_search().await.unwrap();

        let hits = backend.search(&p[0], "invoice").await.unwrap();
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].conversation_title, "Bob");
        assert!(hits[0].snippet.iter().any(|part| part.highlight && part.text.eq_ignore_ascii_case("invoice")));
        assert_eq!(backend.search(&p[0], "quarterly invo").await.unwrap().len(), 1, "the last word is a prefix");
        assert!(backend.search(&p[0], "globex").await.unwrap().is_empty());
        assert!(backend.search(&p[0], "\" OR *").await.unwrap().is_empty(), "syntax is not an error");
    }

    async fn search_catches_up_on_its_own_and_stays_exact_through_edits_and_deletes(engine) {
        let (_db, backend, p) = acme(engine).await;
        let id = backend.direct_conversation(&p[0], p[1].id).await.unwrap();
        let indexed = backend.send_message(&p[0], id, text("pricing for Initech"), None).await.unwrap();
        // Nobody asks for it: the writer indexes within about a second.
        let mut found = false;
        for _ in 0..40 {
            if !backend.search(&p[1], "initech").await.unwrap().is_empty() {
                found = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(found, "search caught up without being asked");

        // Edited and deleted after indexing: the index follows.
        backend.edit_message(&p[0], indexed.id, "pricing for Umbrella").await.unwrap();
        let gone = backend.send_message(&p[0], id, text("Hooli renewal"), None).await.unwrap();
        backend.writer.index_search().await.unwrap();
        backend.delete_message(&p[0], gone.id).await.unwrap();
        // Edited and deleted before indexing: indexed as they are now.
        let late = backend.send_message(&p[0], id, text("Globodyne quote"), None).await.unwrap();
        backend.edit_message(&p[0], late.id, "Soylent quote").await.unwrap();
        let never = backend.send_message(&p[0], id, text("Vandelay import"), None).await.unwrap();
        backend.delete_message(&p[0], never.id).await.unwrap();
        backend.writer.index_search().await.unwrap();

        for (word, hits) in [("initech", 0), ("umbrella", 1), ("hooli", 0), ("globodyne", 0), ("soylent", 1), ("vandelay", 0)] {
            assert_eq!(backend.search(&p[1], word).await.unwrap().len(), hits, "{word}");
        }
    }

    async fn an_image_message_carries_its_dimensions_and_a_pdf_is_a_file(engine) {
        let (_db, backend, p) = acme(engine).await;
        let id = backend.direct_conversation(&p[0], p[1].id).await.unwrap();
        let image = backend.upload_attachment(&p[0], id, "chart.png", bytes_stream(PNG_2X3), 1 << 20).await.unwrap();
        assert_eq!((image.content_type.as_str(), image.width, image.height), ("image/png", Some(2), Some(3)));
        let send = SendMessage { attachment_id: Some(image.id), ..text("") };
        let message = backend.send_message(&p[0], id, send, None).await.unwrap();
        assert_eq!(message.message_type, MessageKind::Image);
        assert_eq!(message.attachment.as_ref().unwrap().width, Some(2));

        let pdf = backend.upload_attachment(&p[0], id, "q3.pdf", bytes_stream(b"%PDF-1.7\n%..."), 1 << 20).await.unwrap();
        let send = SendMessage { attachment_id: Some(pdf.id), ..text("Q3 numbers") };
        let message = backend.send_message(&p[0], id, send, None).await.unwrap();
        assert_eq!(message.message_type, MessageKind::File);
        let download = backend.download_attachment(&p[1], pdf.id).await.unwrap();
        assert!(!download.inline);
        // Someone else's upload cannot be sent as one's own.
        let stolen = SendMessage { attachment_id: Some(pdf.id), ..text("") };
        assert!(matches!(backend.send_message(&p[1], id, stolen, None).await, Err(Error::NotFound)));
    }

    async fn the_list_names_a_last_file_or_voice_message_as_the_live_preview_does(engine) {
        let (_db, backend, p) = acme(engine).await;
        let id = backend.direct_conversation(&p[0], p[1].id).await.unwrap();
        let listed = |rows: Vec<ConversationSummary>| {
            rows.into_iter().find(|c| c.id == id).and_then(|c| c.last_message).map(|m| m.text)
        };
        let pdf = backend.upload_attachment(&p[0], id, "q3.pdf", bytes_stream(b"%PDF-1.7\n%..."), 1 << 20).await.unwrap();
        let sent = backend.send_message(&p[0], id, SendMessage { attachment_id: Some(pdf.id), ..text("") }, None).await.unwrap();
        assert_eq!(preview(&sent).text, "📎 q3.pdf");
        assert_eq!(listed(backend.conversations(&p[1]).await.unwrap()).as_deref(), Some("📎 q3.pdf"));

        // The start of a recording as Chrome makes it: Opus in WebM.
        let webm: &'static [u8] = b"\x1a\x45\xdf\xa3\x9f\x42\x82\x84webm\x16\x54\xae\x6b\xae\x83\x81\x02\x86\x86A_OPUS";
        let voice = backend.upload_attachment(&p[0], id, "Voice message.webm", bytes_stream(webm), 1 << 20).await.unwrap();
        assert_eq!(voice.content_type, "audio/webm");
        let sent = backend.send_message(&p[0], id, SendMessage { attachment_id: Some(voice.id), ..text("") }, None).await.unwrap();
        assert_eq!(sent.message_type, MessageKind::File);
        assert_eq!(preview(&sent).text, "🎤 Voice message");
        assert_eq!(listed(backend.conversations(&p[1]).await.unwrap()).as_deref(), Some("🎤 Voice message"));
    }

    async fn uploads_over_the_limit_of_the_wrong_type_or_from_outsiders_are_refused(engine) {
        let (_db, backend, p) = acme(engine).await;
        let id = backend.direct_conversation(&p[0], p[1].id).await.unwrap();
        let big: &'static [u8] = Box::leak(vec![b'a'; 5000].into_boxed_slice());
        assert!(matches!(
            backend.upload_attachment(&p[0], id, "big.txt", bytes_stream(big), 4096).await,
            Err(Error::PayloadTooLarge { max_bytes: 4096 })
        ));
        assert!(matches!(
            backend.upload_attachment(&p[0], id, "cat.png", bytes_stream(b"<html><script>alert(1)</script>"), 4096).await,
            Err(Error::UnsupportedMediaType)
        ));
        assert!(matches!(
            backend.upload_attachment(&p[2], id, "x.txt", bytes_stream(b"hello"), 4096).await,
            Err(Error::NotFound)
        ));
        let traversal = backend.upload_attachment(&p[0], id, "../../etc/passwd.txt", bytes_stream(b"hello"), 4096).await.unwrap();
        assert_eq!(traversal.file_name, "passwd.txt");
        assert!(matches!(backend.download_attachment(&p[2], traversal.id).await, Err(Error::NotFound)));
        // Until a message carries it, only its uploader can fetch it.
        assert!(matches!(backend.download_attachment(&p[1], traversal.id).await, Err(Error::NotFound)));
        let incoming = std::fs::read_dir(backend.config.data_dir.join("uploads/incoming")).unwrap().count();
        assert_eq!(incoming, 0, "refused uploads leave nothing behind");
    }

    async fn a_forwarded_message_carries_its_text_file_and_first_author_into_another_conversation(engine) {
        let (_db, backend, p) = acme(engine).await;
        let (alice, bob, carol, dave) = (&p[0], &p[1], &p[2], &p[3]);
        let deals = group(&backend, alice, "Deals", &[bob, carol]).await;
        let with_dave = backend.direct_conversation(bob, dave.id).await.unwrap();
        let pdf = backend.upload_attachment(carol, deals, "q3.pdf", bytes_stream(b"%PDF-1.7\n%..."), 1 << 20).await.unwrap();
        let send = SendMessage { attachment_id: Some(pdf.id), ..text("*Q3* numbers") };
        let original = backend.send_message(carol, deals, send, None).await.unwrap();

        let forward = |to| ForwardMessage { conversation_id: to, client_msg_id: Some(uuid::Uuid::now_v7().to_string()) };
        let request = forward(with_dave);
        let copy = backend.forward_message(bob, original.id, request.clone()).await.unwrap();
        assert_eq!((copy.conversation_id, copy.sender_id), (with_dave, bob.id));
        assert_eq!(copy.content, "*Q3* numbers", "the text as written, markers and all");
        assert_eq!(copy.message_type, MessageKind::File);
        let author = copy.forwarded_from.clone().expect("marked as forwarded");
        assert_eq!((author.user_id, author.name.as_str()), (carol.id, "Carol"));
        // Dave, who is not in Deals, receives the file of the copy.
        let file = copy.attachment.clone().unwrap();
        assert_ne!(file.id, pdf.id, "the copy has its own attachment in Dave's conversation");
        assert!(backend.download_attachment(dave, file.id).await.is_ok());
        assert!(matches!(backend.download_attachment(dave, pdf.id).await, Err(Error::NotFound)));
        let dave_sees = backend.messages(dave, with_dave, None, None).await.unwrap();
        assert_eq!(dave_sees.messages.last().unwrap().forwarded_from, copy.forwarded_from);
        assert_eq!(backend.conversation(dave, with_dave).await.unwrap().unread_count, 1);

        // A retry answers with the first copy and copies nothing.
        let again = backend.forward_message(bob, original.id, request).await.unwrap();
        assert_eq!(again.id, copy.id);
        assert_eq!(count(&backend, "SELECT COUNT(*) FROM messages WHERE forwarded_from IS NOT NULL").await, 1);
        assert_eq!(count(&backend, "SELECT COUNT(*) FROM attachments").await, 2);

        // Forwarded on, it still names the first author; and nobody edits it.
        let onward = backend.forward_message(dave, copy.id, forward(with_dave)).await.unwrap();
        assert_eq!(onward.forwarded_from.unwrap().user_id, carol.id);
        assert!(matches!(backend.edit_message(bob, copy.id, "my words now").await, Err(Error::Forbidden(_))));
    }

    async fn only_a_visible_message_is_forwarded_and_only_where_the_forwarder_may_post(engine) {
        let (_db, backend, p) = acme(engine).await;
        let (alice, bob, carol, dave) = (&p[0], &p[1], &p[2], &p[3]);
        let deals = group(&backend, alice, "Deals", &[bob]).await;
        let with_carol = backend.direct_conversation(bob, carol.id).await.unwrap();
        let secret = backend.send_message(alice, deals, text("margin is 40%"), None).await.unwrap();
        let forward = |to| ForwardMessage { conversation_id: to, client_msg_id: Some(uuid::Uuid::now_v7().to_string()) };

        // Carol and Dave are not in Deals; another organisation sees nothing.
        let with_dave = backend.direct_conversation(carol, dave.id).await.unwrap();
        assert!(matches!(backend.forward_message(carol, secret.id, forward(with_dave)).await, Err(Error::NotFound)));
        let globex = people(&backend, "Globex", &["Grace", "Heidi"]).await;
        let theirs = backend.direct_conversation(&globex[0], globex[1].id).await.unwrap();
        assert!(matches!(backend.forward_message(&globex[0], secret.id, forward(theirs)).await, Err(Error::NotFound)));
        // Bob cannot forward into a conversation he is not in, nor Globex's.
        assert!(matches!(backend.forward_message(bob, secret.id, forward(with_dave)).await, Err(Error::NotFound)));
        assert!(matches!(backend.forward_message(bob, secret.id, forward(theirs)).await, Err(Error::NotFound)));
        // Nor into the broadcast, where only admins post.
        let broadcast = CreateConversation { kind: Some(ConversationKind::Broadcast), title: Some("News".into()), ..Default::default() };
        let news = backend.create_conversation(alice, broadcast).await.unwrap().id;
        assert!(matches!(backend.forward_message(bob, secret.id, forward(news)).await, Err(Error::Forbidden(_))));
        // A deleted message, or one the system wrote, is not forwarded.
        let created = backend.messages(bob, deals, None, None).await.unwrap().messages[0].id;
        assert!(matches!(backend.forward_message(bob, created, forward(with_carol)).await, Err(Error::InvalidInput(_))));
        backend.delete_message(alice, secret.id).await.unwrap();
        assert!(matches!(backend.forward_message(bob, secret.id, forward(with_carol)).await, Err(Error::MessageDeleted)));
        assert_eq!(count(&backend, "SELECT COUNT(*) FROM messages WHERE forwarded_from IS NOT NULL").await, 0);
    }
}
