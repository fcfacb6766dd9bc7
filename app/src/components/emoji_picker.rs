//! Reacting with any emoji, not only the quick ones: a dialog with Unicode's
//! emoji in their groups (a bar jumps to each), a search by name or shortcode ("thumbs up",
//! ":+1"), the ones you picked lately first, and a skin tone that sticks.
//! The list comes from `GET /api/chat/emoji` once per page (the browser
//! caches it for a day); the dialog's code is a WASM chunk of its own.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::icon::{Icon, Svg};
use super::message::{QUICK_REACTIONS, apply};
use super::{ChunkUnavailable, dialog_or_unavailable};
use crate::api::chat::toggle_reaction;
use crate::format::lower_case;
use crate::protocol::{EmojiChoice, EmojiGroup, MessageId};
use crate::store::use_store;

/// How many emoji "Recently used" keeps: three rows.
const RECENT: usize = 3 * COLUMNS;
/// The grid's columns, as the stylesheet lays them out (`.emoji-grid`): the
/// up and down arrows move by this much.
const COLUMNS: usize = 8;
/// The sections the dialog shows before the rest: the recent ones and the
/// first group.
const FIRST_SECTIONS: usize = 2;
/// Search results shown at most.
const MAX_RESULTS: usize = 15 * COLUMNS;
/// The skin tone choices: none (the yellow default), then light to dark.
const TONES: [(&str, &str); 6] = [
    ("👋", "Default skin tone"),
    ("👋🏻", "Light skin tone"),
    ("👋🏼", "Medium-light skin tone"),
    ("👋🏽", "Medium skin tone"),
    ("👋🏾", "Medium-dark skin tone"),
    ("👋🏿", "Dark skin tone"),
];

/// The dialog, from its own WASM chunk: the browser fetches that the first
/// time someone opens it, not with the page.
pub async fn emoji_picker(message: MessageId, open: RwSignal<Option<MessageId>>) -> AnyView {
    #[cfg(feature = "hydrate")]
    let loaded = emoji_picker_chunk(message, open).await;
    #[cfg(not(feature = "hydrate"))]
    let loaded = emoji_picker_chunk(message, open);
    dialog_or_unavailable(loaded, move || open.set(None))
}

#[cfg_attr(
    feature = "hydrate",
    leptos::wasm_split::wasm_split(
        emoji_picker,
        wasm_split_path = ::leptos::wasm_split,
        fallible
    )
)]
fn emoji_picker_chunk(
    message: MessageId,
    open: RwSignal<Option<MessageId>>,
) -> Result<AnyView, ChunkUnavailable> {
    Ok(view! { <EmojiPicker message open /> }.into_any())
}

/// What the picker remembers for a user, in the browser.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmojiPrefs {
    /// Picked lately, newest first.
    pub recent: Vec<String>,
    /// An index into [`TONES`]: 0 for none.
    pub tone: usize,
}

impl EmojiPrefs {
    /// Puts `emoji` first among the recent ones, once.
    pub fn picked(&mut self, emoji: &str) {
        self.recent.retain(|e| e != emoji);
        self.recent.insert(0, emoji.to_owned());
        self.recent.truncate(RECENT);
    }

    /// The recent ones, or the quick reactions before anything is picked.
    fn recent_or_quick(&self) -> Vec<String> {
        if self.recent.is_empty() {
            QUICK_REACTIONS.iter().map(|e| (*e).to_owned()).collect()
        } else {
            self.recent.clone()
        }
    }
}

/// One heading and its emoji, as `(emoji, name)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Section {
    pub heading: String,
    pub emoji: Vec<(String, String)>,
}

/// The words of a search: lower case, split on spaces and shortcode colons.
pub fn query_words(query: &str) -> Vec<String> {
    lower_case(query)
        .split(|c: char| c.is_whitespace() || c == ':')
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Whether every word of the search starts a word of the emoji's name or one
/// of its shortcodes: "thumb", "up" and "+1" all find 👍, and "mail" finds
/// 📧 `e-mail`. Shortcodes split into words as the composer's `:` list
/// splits them (`backend::chat::emoji::shortcode_matches`).
pub fn matches(choice: &EmojiChoice, words: &[String]) -> bool {
    let name = lower_case(&choice.name);
    let mut haystack: Vec<&str> = name
        .split(|c: char| c.is_whitespace() || matches!(c, ':' | ',' | '-'))
        .collect();
    for code in &choice.shortcodes {
        haystack.push(code);
        haystack.extend(code.split(['_', '-']));
    }
    words
        .iter()
        .all(|word| haystack.iter().any(|h| h.starts_with(word.as_str())))
}

/// The emoji as the picker shows it: with the chosen skin tone where it
/// takes one.
fn toned(choice: &EmojiChoice, tone: usize) -> &str {
    match tone.checked_sub(1).and_then(|i| choice.tones.get(i)) {
        Some(toned) => toned,
        None => &choice.emoji,
    }
}

/// What the picker lists: without a search, the recent ones and then every
/// group; with one, what matches.
pub fn sections(catalog: &[EmojiGroup], prefs: &EmojiPrefs, words: &[String]) -> Vec<Section> {
    let all = || catalog.iter().flat_map(|group| &group.emoji);
    if !words.is_empty() {
        let found = all()
            .filter(|choice| matches(choice, words))
            .take(MAX_RESULTS)
            .map(|choice| (toned(choice, prefs.tone).to_owned(), choice.name.clone()))
            .collect();
        return vec![Section {
            heading: "Search results".to_owned(),
            emoji: found,
        }];
    }
    let name_of = |emoji: &str| {
        all()
            .find(|c| c.emoji == emoji || c.tones.iter().any(|t| t == emoji))
            .map_or_else(|| emoji.to_owned(), |c| c.name.clone())
    };
    let recent = Section {
        heading: "Recently used".to_owned(),
        emoji: prefs
            .recent_or_quick()
            .into_iter()
            .map(|emoji| {
                let name = name_of(&emoji);
                (emoji, name)
            })
            .collect(),
    };
    std::iter::once(recent)
        .chain(catalog.iter().map(|group| {
            Section {
                heading: group.name.clone(),
                emoji: group
                    .emoji
                    .iter()
                    .map(|choice| (toned(choice, prefs.tone).to_owned(), choice.name.clone()))
                    .collect(),
            }
        }))
        .collect()
}

#[component]
fn EmojiPicker(message: MessageId, open: RwSignal<Option<MessageId>>) -> impl IntoView {
    let store = use_store();
    let me = store.my_id();
    let prefs = RwSignal::new(load_prefs(me));
    let query = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let sending = RwSignal::new(false);
    let catalog = LocalResource::new(load_catalog);
    // Nearly 1,900 buttons take a fifth of a second to build on a desktop
    // (more on a phone): the dialog first shows the recent ones and the
    // first group, and the rest a frame after it is on screen.
    let whole = RwSignal::new(false);
    let shown = Memo::new(move |_| {
        let words = query.with(|q| query_words(q));
        match catalog.get() {
            Some(Ok(catalog)) => {
                let mut sections = prefs.with(|p| sections(&catalog, p, &words));
                if !whole.get() {
                    sections.truncate(FIRST_SECTIONS);
                }
                Ok(sections)
            }
            Some(Err(e)) => Err(e),
            None => Ok(Vec::new()),
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(_)) = catalog.get() {
            // Two frames: the first paints the dialog.
            request_animation_frame(move || {
                request_animation_frame(move || {
                    whole.try_set(true);
                })
            });
        }
    });

    // Back to the message the dialog was opened from, as a dialog should.
    let close = move || {
        open.set(None);
        #[cfg(feature = "hydrate")]
        if let Some(row) = crate::client::dom::element_by_id(&format!("m-{message}")) {
            let _ = row.focus();
        }
    };
    // The answer may come after the dialog (or its thread) has closed: it
    // then touches nothing but the store.
    let pick = move |emoji: String| {
        if sending.get_untracked() {
            return;
        }
        sending.set(true);
        error.set(None);
        prefs.update(|p| p.picked(&emoji));
        save_prefs(me, &prefs.get_untracked());
        leptos::task::spawn_local(async move {
            match toggle_reaction(message, emoji).await {
                Ok(updated) => {
                    apply(store, updated);
                    if open.try_get_untracked().flatten().is_some() {
                        close();
                    }
                }
                Err(e) => {
                    error.try_set(Some(e.message));
                    sending.try_set(false);
                }
            }
        });
    };
    let first_found = move || {
        shown.with_untracked(|s| {
            s.as_ref()
                .ok()
                .and_then(|s| s.first())
                .and_then(|section| section.emoji.first().map(|(e, _)| e.clone()))
        })
    };
    // The groups' bar: each group by its first emoji, a tap away.
    let groups = Memo::new(move |_| match catalog.get() {
        Some(Ok(catalog)) => catalog
            .iter()
            .map(|g| {
                (
                    g.name.clone(),
                    g.emoji.first().map(|e| e.emoji.clone()).unwrap_or_default(),
                )
            })
            .collect(),
        _ => Vec::new(),
    });
    let jump = move |group: usize| {
        whole.set(true);
        // Section 0 holds the recent ones.
        #[cfg(feature = "hydrate")]
        request_animation_frame(move || {
            if let Some(section) =
                crate::client::dom::element_by_id(&format!("emoji-section-{}", group + 1))
            {
                let options = web_sys::ScrollIntoViewOptions::new();
                options.set_block(web_sys::ScrollLogicalPosition::Start);
                section.scroll_into_view_with_scroll_into_view_options(&options);
            }
        });
        #[cfg(not(feature = "hydrate"))]
        let _ = group;
    };
    let set_tone = move |tone: usize| {
        prefs.update(|p| p.tone = tone);
        save_prefs(me, &prefs.get_untracked());
    };

    // Into the search, as it opens: `autofocus` alone left the focus outside.
    // Escape closes it wherever the focus is.
    #[cfg(feature = "hydrate")]
    {
        leptos::task::spawn_local(crate::client::dom::focus_when_shown("emoji-search"));
        crate::client::dom::close_on_escape(close);
    }

    view! {
        <div class="modal-backdrop" on:click=move |_| close()>
            <div
                class="modal emoji-picker"
                role="dialog"
                aria-modal="true"
                aria-labelledby="emoji-picker-title"
                data-testid="emoji-picker"
                on:click=|ev| ev.stop_propagation()
            >
                <div class="modal-head">
                    <h2 id="emoji-picker-title">"Add reaction"</h2>
                    <button type="button" class="icon-button" aria-label="Close" on:click=move |_| close()>
                        <Svg icon=Icon::Close />
                    </button>
                </div>
                <div class="emoji-search-row">
                    <input id="emoji-search" type="search" placeholder="Search emoji" aria-label="Search emoji"
                        prop:value=move || query.get()
                        on:input=move |ev| query.set(event_target_value(&ev))
                        on:keydown=move |ev| {
                            if ev.key() == "Enter" {
                                ev.prevent_default();
                                if let Some(emoji) = first_found() {
                                    pick(emoji);
                                }
                            }
                        } />
                    <div class="skin-tones" role="radiogroup" aria-label="Skin tone">
                        {TONES.iter().enumerate().map(|(tone, (hand, label))| view! {
                            <button type="button" role="radio" class="icon-button skin-tone" title=*label aria-label=*label
                                aria-checked=move || (prefs.with(|p| p.tone) == tone).to_string()
                                on:click=move |_| set_tone(tone)>{*hand}</button>
                        }).collect_view()}
                    </div>
                </div>
                <Show when=move || query.with(|q| q.trim().is_empty())>
                    <nav class="emoji-groups" aria-label="Emoji groups">
                        {move || groups.get().into_iter().enumerate().map(|(index, (name, emoji))| view! {
                            <button type="button" title=name.clone() aria-label=name on:click=move |_| jump(index)>{emoji}</button>
                        }).collect_view()}
                    </nav>
                </Show>
                <div class="emoji-sections" on:keydown=move_focus aria-busy=move || sending.get().to_string()>
                    {move || match shown.get() {
                        Err(e) => view! { <p class="form-error" role="alert">{e}</p> }.into_any(),
                        Ok(sections) if sections.is_empty() => view! { <p class="muted">"Loading…"</p> }.into_any(),
                        Ok(sections) if sections.iter().all(|s| s.emoji.is_empty()) => {
                            view! { <p class="muted" role="status">"No emoji found."</p> }.into_any()
                        }
                        Ok(sections) => sections.into_iter().enumerate().map(|(index, Section { heading, emoji })| view! {
                            <section id=format!("emoji-section-{index}")>
                                <h3>{heading.clone()}</h3>
                                <div class="emoji-grid" role="group" aria-label=heading>
                                    {emoji.into_iter().map(|(emoji, name)| {
                                        let chosen = emoji.clone();
                                        view! {
                                            <button type="button" class="emoji" title=name.clone() aria-label=name
                                                on:click=move |_| pick(chosen.clone())>{emoji}</button>
                                        }
                                    }).collect_view()}
                                </div>
                            </section>
                        }).collect_view().into_any(),
                    }}
                </div>
                {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
            </div>
        </div>
    }
}

/// The arrow keys move between the emoji: by one to the sides, by a row up
/// and down, across the groups.
fn move_focus(ev: leptos::ev::KeyboardEvent) {
    let step: isize = match ev.key().as_str() {
        "ArrowRight" => 1,
        "ArrowLeft" => -1,
        "ArrowDown" => COLUMNS as isize,
        "ArrowUp" => -(COLUMNS as isize),
        _ => return,
    };
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let Some(document) = web_sys::window().and_then(|w| w.document()) else {
            return;
        };
        let Ok(buttons) = document.query_selector_all(".emoji-picker .emoji") else {
            return;
        };
        let active = document.active_element();
        let Some(at) = (0..buttons.length()).find(|&i| {
            buttons
                .item(i)
                .as_ref()
                .map(|b| b.unchecked_ref::<web_sys::Element>())
                == active.as_ref()
        }) else {
            return;
        };
        ev.prevent_default();
        let to = (at as isize + step).clamp(0, buttons.length() as isize - 1) as u32;
        if let Some(button) = buttons
            .item(to)
            .and_then(|b| b.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = button.focus();
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = step;
}

#[cfg(feature = "hydrate")]
async fn load_catalog() -> Result<std::rc::Rc<Vec<EmojiGroup>>, String> {
    use std::cell::RefCell;
    use std::rc::Rc;
    thread_local! {
        static CATALOG: RefCell<Option<Rc<Vec<EmojiGroup>>>> = const { RefCell::new(None) };
    }
    if let Some(catalog) = CATALOG.with(|c| c.borrow().clone()) {
        return Ok(catalog);
    }
    let unavailable = |_| ChunkUnavailable::MESSAGE.to_owned();
    let response = gloo_net::http::Request::get("/api/chat/emoji")
        .send()
        .await
        .map_err(unavailable)?;
    if !response.ok() {
        return Err(ChunkUnavailable::MESSAGE.to_owned());
    }
    let catalog = Rc::new(
        response
            .json::<Vec<EmojiGroup>>()
            .await
            .map_err(unavailable)?,
    );
    CATALOG.with(|c| *c.borrow_mut() = Some(catalog.clone()));
    Ok(catalog)
}

#[cfg(not(feature = "hydrate"))]
async fn load_catalog() -> Result<std::rc::Rc<Vec<EmojiGroup>>, String> {
    Err("The emoji load in the browser.".to_owned())
}

fn load_prefs(me: crate::protocol::UserId) -> EmojiPrefs {
    #[cfg(feature = "hydrate")]
    return crate::client::storage::load_emoji_prefs(me);
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = me;
        EmojiPrefs::default()
    }
}

fn save_prefs(me: crate::protocol::UserId, prefs: &EmojiPrefs) {
    #[cfg(feature = "hydrate")]
    crate::client::storage::save_emoji_prefs(me, prefs);
    #[cfg(not(feature = "hydrate"))]
    let _ = (me, prefs);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn choice(emoji: &str, name: &str, shortcodes: &[&str], tones: &[&str]) -> EmojiChoice {
        EmojiChoice {
            emoji: emoji.to_owned(),
            name: name.to_owned(),
            shortcodes: shortcodes.iter().map(|s| (*s).to_owned()).collect(),
            tones: tones.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    fn catalog() -> Vec<EmojiGroup> {
        vec![
            EmojiGroup {
                name: "Smileys & emotion".to_owned(),
                emoji: vec![
                    choice("😀", "grinning face", &["grinning"], &[]),
                    choice("😂", "face with tears of joy", &["joy"], &[]),
                ],
            },
            EmojiGroup {
                name: "People & body".to_owned(),
                emoji: vec![choice(
                    "👍",
                    "thumbs up",
                    &["+1", "thumbsup"],
                    &["👍🏻", "👍🏼", "👍🏽", "👍🏾", "👍🏿"],
                )],
            },
            EmojiGroup {
                name: "Flags".to_owned(),
                emoji: vec![
                    choice("🇫🇷", "flag: France", &["fr"], &[]),
                    choice("📧", "e-mail", &["e-mail", "email"], &[]),
                ],
            },
        ]
    }

    fn found(query: &str) -> Vec<String> {
        let sections = sections(&catalog(), &EmojiPrefs::default(), &query_words(query));
        sections[0].emoji.iter().map(|(e, _)| e.clone()).collect()
    }

    #[test]
    fn a_search_finds_emoji_by_the_start_of_any_word_of_their_name_or_shortcodes() {
        assert_eq!(found("thumb"), ["👍"]);
        assert_eq!(found("UP"), ["👍"]);
        assert_eq!(found(":+1:"), ["👍"]);
        assert_eq!(found("face"), ["😀", "😂"]);
        assert_eq!(found("face joy"), ["😂"]);
        assert_eq!(found("france"), ["🇫🇷"]);
        assert_eq!(found("mail"), ["📧"], "after a hyphen");
        assert!(
            found("umbs").is_empty(),
            "the middle of a word finds nothing"
        );
    }

    #[test]
    fn without_a_search_the_quick_reactions_come_first_until_something_is_picked() {
        let listed = sections(&catalog(), &EmojiPrefs::default(), &[]);
        let headings: Vec<&str> = listed.iter().map(|s| s.heading.as_str()).collect();
        assert_eq!(
            headings,
            [
                "Recently used",
                "Smileys & emotion",
                "People & body",
                "Flags"
            ]
        );
        assert_eq!(listed[0].emoji.len(), QUICK_REACTIONS.len());
        assert_eq!(
            listed[0].emoji[0],
            ("👍".to_owned(), "thumbs up".to_owned())
        );

        let mut prefs = EmojiPrefs::default();
        prefs.picked("🇫🇷");
        prefs.picked("👍🏽");
        prefs.picked("🇫🇷");
        let listed = sections(&catalog(), &prefs, &[]);
        assert_eq!(
            listed[0].emoji,
            [
                ("🇫🇷".to_owned(), "flag: France".to_owned()),
                ("👍🏽".to_owned(), "thumbs up".to_owned())
            ]
        );
    }

    #[test]
    fn recent_emoji_are_kept_to_three_rows() {
        let mut prefs = EmojiPrefs::default();
        for emoji in ["😀", "😂", "👍", "🇫🇷"].iter().cycle().take(40).enumerate() {
            prefs.picked(&format!("{}{}", emoji.1, emoji.0));
        }
        assert_eq!(prefs.recent.len(), RECENT);
        assert_eq!(prefs.recent[0], "🇫🇷39");
    }

    #[test]
    fn a_skin_tone_applies_to_the_emoji_that_take_one() {
        let prefs = EmojiPrefs {
            recent: Vec::new(),
            tone: 3,
        };
        let listed = sections(&catalog(), &prefs, &[]);
        assert_eq!(listed[2].emoji[0].0, "👍🏽");
        assert_eq!(listed[1].emoji[0].0, "😀");
        let listed = sections(&catalog(), &prefs, &query_words("thumbs"));
        assert_eq!(listed[0].emoji[0].0, "👍🏽");
    }
}
