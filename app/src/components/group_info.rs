//! A group's members, who is online and who is an admin; group admins add
//! people, rename the group, change roles and remove people, and anyone can
//! leave. Everything here is read from the conversation's row in the store,
//! which the socket keeps current, so a change made elsewhere shows at once.

use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

use super::avatar::Avatar;
use super::icon::{Icon, Svg};
use super::{ChunkUnavailable, dialog_or_unavailable};
use crate::api::AppError;
use crate::api::chat::{
    add_participants, contacts, remove_participant, rename_conversation, set_role,
};
use crate::api::json::resource;
use crate::format::presence;
use crate::protocol::{ConversationId, Participant, ParticipantRole, UserId};
use crate::store::use_store;

/// The dialog, from its own WASM chunk: the browser fetches that the first
/// time someone opens a group's info, not with the page.
pub async fn group_info_dialog(id: ConversationId, open: RwSignal<bool>) -> AnyView {
    #[cfg(feature = "hydrate")]
    let loaded = group_info_chunk(id, open).await;
    #[cfg(not(feature = "hydrate"))]
    let loaded = group_info_chunk(id, open);
    dialog_or_unavailable(loaded, move || open.set(false))
}

#[cfg_attr(
    feature = "hydrate",
    leptos::wasm_split::wasm_split(
        group_info_dialog,
        wasm_split_path = ::leptos::wasm_split,
        fallible
    )
)]
fn group_info_chunk(id: ConversationId, open: RwSignal<bool>) -> Result<AnyView, ChunkUnavailable> {
    Ok(view! { <GroupInfo id open /> }.into_any())
}

/// Runs a change on the server; its refusal, if any, shows in the dialog.
/// What changed arrives over the socket like any other change.
fn attempt(
    error: RwSignal<Option<String>>,
    change: impl Future<Output = Result<(), AppError>> + 'static,
) {
    leptos::task::spawn_local(async move {
        error.set(change.await.err().map(|e| e.message));
    });
}

#[component]
fn GroupInfo(id: ConversationId, open: RwSignal<bool>) -> impl IntoView {
    let store = use_store();
    let me = store.my_id();
    let row = Memo::new(move |_| store.model.with(|m| m.conversation(id).cloned()));
    let title = move || {
        row.try_with(|r| r.as_ref().map(|r| r.title.clone()))
            .flatten()
            .unwrap_or_default()
    };
    let members = Memo::new(move |_| {
        let mut list = row
            .try_with(|r| r.as_ref().map(|r| r.participants.clone()))
            .flatten()
            .unwrap_or_default();
        // Admins first, then by name; me among them where I belong.
        list.sort_by(|a, b| {
            (a.role != ParticipantRole::Admin, &a.display_name)
                .cmp(&(b.role != ParticipantRole::Admin, &b.display_name))
        });
        list
    });
    // Everything here is read with `try_`: leaving (or being removed) takes
    // the row away and closes the dialog in the same turn, and an effect
    // already queued may still run once after its signals are disposed.
    let is_admin = Memo::new(move |_| {
        row.try_with(|r| {
            r.as_ref()
                .is_some_and(|r| r.my_role == ParticipantRole::Admin)
        })
        .unwrap_or(false)
    });
    let error = RwSignal::new(None::<String>);
    let name = RwSignal::new(untrack(title));
    let confirm_leave = RwSignal::new(false);
    let close = move || open.set(false);

    let rename = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        attempt(error, rename_conversation(id, name.get_untracked()));
    };
    let navigate = use_navigate();
    let leave = move |_| {
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            match remove_participant(id, me).await {
                // Leaving the thread takes this dialog with it.
                Ok(()) => navigate("/", Default::default()),
                Err(e) => error.set(Some(e.message)),
            }
        });
    };

    // Opening moves the focus into the dialog; Escape closes it wherever the
    // focus is.
    #[cfg(feature = "hydrate")]
    {
        leptos::task::spawn_local(crate::client::dom::focus_when_shown("group-info-title"));
        crate::client::dom::close_on_escape(close);
    }

    view! {
        <div class="modal-backdrop" on:click=move |_| close()>
            <div
                class="modal group-info"
                role="dialog"
                aria-modal="true"
                aria-labelledby="group-info-title"
                on:click=|ev| ev.stop_propagation()
            >
                <div class="modal-head">
                    <h2 id="group-info-title" tabindex="-1">"Group info"</h2>
                    <button type="button" class="icon-button" aria-label="Close" on:click=move |_| close()>
                        <Svg icon=Icon::Close />
                    </button>
                </div>
                <Show
                    when=move || is_admin.try_get().unwrap_or(false)
                    fallback=move || view! { <p class="group-name">{title}</p> }
                >
                    <form class="inline-form" on:submit=rename>
                        <label for="group-name">"Group name"</label>
                        <input id="group-name" required maxlength="100"
                            prop:value=move || name.try_get().unwrap_or_default()
                            on:input=move |ev| name.set(event_target_value(&ev)) />
                        <button type="submit"
                            disabled=move || name.try_with(|n| n.trim().is_empty() || n.trim() == title()).unwrap_or(true)>
                            "Rename"
                        </button>
                    </form>
                </Show>
                {move || error.try_get().flatten().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
                <h3 class="members-heading">{move || format!("{} members", members.try_with(Vec::len).unwrap_or(0))}</h3>
                <ul class="contact-list members" aria-label="Members">
                    <For each=move || members.try_get().unwrap_or_default() key=|p| (p.user_id, p.role, p.is_online, p.last_seen_at) let:person>
                        <MemberRow person me is_admin error conversation=id />
                    </For>
                </ul>
                <Show when=move || is_admin.try_get().unwrap_or(false)>
                    <AddPeople id members error />
                </Show>
                <div class="modal-actions">
                    <Show
                        when=move || confirm_leave.try_get().unwrap_or(false)
                        fallback=move || view! {
                            <button type="button" class="danger" on:click=move |_| confirm_leave.set(true)>"Leave group"</button>
                        }
                    >
                        <p class="confirm">"You will stop getting this group's messages."</p>
                        <button type="button" on:click=move |_| confirm_leave.set(false)>"Stay"</button>
                        <button type="button" class="danger" on:click=leave.clone()>"Leave"</button>
                    </Show>
                </div>
            </div>
        </div>
    }
}

fn role_name(role: ParticipantRole) -> &'static str {
    match role {
        ParticipantRole::Admin => "Admin",
        ParticipantRole::Moderator => "Moderator",
        ParticipantRole::Member => "Member",
    }
}

#[component]
fn MemberRow(
    person: Participant,
    me: UserId,
    is_admin: Memo<bool>,
    error: RwSignal<Option<String>>,
    conversation: ConversationId,
) -> impl IntoView {
    let store = use_store();
    let user_id = person.user_id;
    let role = person.role;
    let is_me = user_id == me;
    let name = person.display_name.clone();
    let label = if is_me {
        format!("{name} (you)")
    } else {
        name.clone()
    };
    let (is_online, last_seen_at) = (person.is_online, person.last_seen_at);
    let status = move || {
        presence(is_online, last_seen_at, store.now.get(), store.offset.get()).unwrap_or_default()
    };
    let manage = move || !is_me && is_admin.try_get().unwrap_or(false);
    // What the role select shows: the choice while the server decides, and
    // the role again if it refuses (an accepted change re-renders the row).
    let shown = RwSignal::new(role);
    let role_label = format!("Role of {name}");
    let remove_label = format!("Remove {name}");
    view! {
        <li class="contact member" data-testid="member">
            <span class="contact-button">
                <Avatar name=name.clone() online=person.is_online />
                <span class="contact-text">
                    <span class="contact-name">{label}</span>
                    <span class="contact-status muted">{status}</span>
                </span>
                <Show
                    when=manage
                    fallback=move || (role != ParticipantRole::Member).then(|| view! {
                        <span class="role-badge">{role_name(role)}</span>
                    })
                >
                    <select aria-label=role_label.clone()
                        prop:value=move || shown.try_get().unwrap_or(role).as_str()
                        on:change=move |ev| {
                            if let Some(next) = ParticipantRole::parse(&event_target_value(&ev)) {
                                shown.set(next);
                                attempt(error, async move {
                                    let result = set_role(conversation, user_id, next).await;
                                    // Refused: the select shows the role the member still has.
                                    if result.is_err() {
                                        shown.try_set(role);
                                    }
                                    result
                                });
                            }
                        }>
                        {[ParticipantRole::Admin, ParticipantRole::Moderator, ParticipantRole::Member]
                            .into_iter()
                            .map(|option| view! {
                                <option value=option.as_str() selected=option == role>{role_name(option)}</option>
                            })
                            .collect_view()}
                    </select>
                    <button type="button" class="icon-button" aria-label=remove_label.clone()
                        on:click=move |_| attempt(error, remove_participant(conversation, user_id))>
                        <Svg icon=Icon::Trash />
                    </button>
                </Show>
            </span>
        </li>
    }
}

/// For group admins: people of the organisation who are not in the group
/// yet, found by name or email, each added with one click.
#[component]
fn AddPeople(
    id: ConversationId,
    members: Memo<Vec<Participant>>,
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    let store = use_store();
    let query = RwSignal::new(String::new());
    let people = resource(
        move || query.try_get().unwrap_or_default(),
        |q| async move { contacts(q).await },
    );
    view! {
        <label for="add-people">"Add people"</label>
        <input id="add-people" type="search" placeholder="Name or email"
            prop:value=move || query.try_get().unwrap_or_default()
            on:input=move |ev| query.set(event_target_value(&ev)) />
        <ul class="contact-list" aria-label="People to add">
            <Transition fallback=|| view! { <li class="muted">"Loading…"</li> }>
                {move || people.try_get().flatten().map(|result| match result {
                    Ok(list) => {
                        let outside: Vec<_> = members.try_with(|m| {
                            list.into_iter()
                                .filter(|person| !m.iter().any(|p| p.user_id == person.id))
                                .collect()
                        }).unwrap_or_default();
                        if outside.is_empty() {
                            return view! { <li class="muted">"Nobody else to add."</li> }.into_any();
                        }
                        outside.into_iter().map(|person| {
                            let user_id = person.id;
                            let add_label = format!("Add {}", person.display_name);
                            let status = presence(person.is_online, person.last_seen_at,
                                store.now.get_untracked(), store.offset.get_untracked()).unwrap_or_default();
                            view! {
                                <li class="contact">
                                    <span class="contact-button">
                                        <Avatar name=person.display_name.clone() online=person.is_online />
                                        <span class="contact-text">
                                            <span class="contact-name">{person.display_name.clone()}</span>
                                            <span class="contact-status muted">{status}</span>
                                        </span>
                                        <button type="button" class="small" aria-label=add_label
                                            on:click=move |_| attempt(error, add_participants(id, vec![user_id]))>
                                            "Add"
                                        </button>
                                    </span>
                                </li>
                            }
                        }).collect_view().into_any()
                    }
                    Err(e) => view! { <li class="form-error">{e.message}</li> }.into_any(),
                })}
            </Transition>
        </ul>
    }
}
