//! The emoji a reaction can be, as the picker offers them: Unicode's list,
//! from the `emojis` crate, in its groups and order; and the `:shortcode:`s
//! people type in messages.

use std::borrow::Cow;
use std::sync::LazyLock;

use emojis::{Group, SkinTone, UnicodeVersion};

use crate::format::{colon_stands_apart, is_shortcode_char};
use crate::protocol::{self, EmojiChoice, EmojiGroup, ShortcodeMatch};

/// The newest emoji the picker offers. Unicode 15.0 (2022) is what phones
/// and desktops from 2023 on can draw; newer ones would show as empty boxes
/// on many of them. A reaction with a newer one is still accepted (see
/// `input::Emoji`), as someone may paste it.
const NEWEST: UnicodeVersion = UnicodeVersion::new(15, 0);

const TONES: [SkinTone; 5] = [
    SkinTone::Light,
    SkinTone::MediumLight,
    SkinTone::Medium,
    SkinTone::MediumDark,
    SkinTone::Dark,
];

/// The `:shortcode:`s of a message (GitHub's and Slack's names, as the
/// picker shows them) as the emoji they name: `:rocket:` is stored as 🚀, so
/// that what people type from habit reads as they meant it, everywhere the
/// message goes. Left as written: code and links, a name between colons that
/// touch a letter or digit on the outside (`10:30:00`, `a:b:c`), and names
/// that are not shortcodes. (Only emoji the picker offers have shortcodes.)
pub fn replace_shortcodes(text: &str) -> Cow<'_, str> {
    if !text.contains(':') {
        return Cow::Borrowed(text);
    }
    let literal = crate::format::literal_ranges(text);
    let mut out = String::new();
    let (mut copied, mut from) = (0, 0);
    while let Some(open) = text[from..].find(':').map(|at| from + at) {
        let name_at = open + 1;
        let close = text[name_at..]
            .find(|c: char| !is_shortcode_char(c))
            .map_or(text.len(), |at| name_at + at);
        if close == name_at || !text[close..].starts_with(':') {
            from = name_at;
            continue;
        }
        // The closing colon may open the next one, as in `:+1::tada:`.
        from = close;
        let apart = colon_stands_apart(&text[..open])
            && text[close + 1..]
                .chars()
                .next()
                .is_none_or(|c| !c.is_alphanumeric());
        if !apart || literal.iter().any(|r| r.start <= close && open < r.end) {
            continue;
        }
        let Some(emoji) = emojis::get_by_shortcode(&text[name_at..close]) else {
            continue;
        };
        // Slack writes a tone after the emoji: `:wave::skin-tone-3:`.
        let (emoji, end) = match skin_tone_suffix(&text[close + 1..]) {
            Some((tone, length)) => (
                emoji.with_skin_tone(tone).unwrap_or(emoji),
                close + 1 + length,
            ),
            None => (emoji, close + 1),
        };
        out.push_str(&text[copied..open]);
        out.push_str(emoji.as_str());
        copied = end;
        from = copied;
    }
    if copied == 0 {
        return Cow::Borrowed(text);
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
}

/// The tone of Slack's `:skin-tone-2:` (light) to `:skin-tone-6:` (dark) at
/// the start of `text`, and its length.
fn skin_tone_suffix(text: &str) -> Option<(SkinTone, usize)> {
    match text.strip_prefix(":skin-tone-")?.as_bytes() {
        [digit @ b'2'..=b'6', b':', ..] => {
            Some((TONES[usize::from(digit - b'2')], ":skin-tone-2:".len()))
        }
        _ => None,
    }
}

/// The most emoji the composer offers for a `:` being typed.
pub const MAX_SHORTCODE_MATCHES: usize = 8;

/// The emoji the composer offers for `:` and `prefix`, as Slack does: the
/// one it names, those with a shortcode that begins with it, then those with
/// a word of one that does (`:up` finds 👍 `:thumbsup:` after ⬆️ `:up:`),
/// each once, in the picker's order, in `tone` where they take one.
/// Shortcodes are lower-case; so is the search.
pub fn shortcode_matches(prefix: &str, tone: protocol::SkinTone) -> Vec<ShortcodeMatch> {
    let prefix = prefix.to_ascii_lowercase();
    if prefix.is_empty() || !prefix.chars().all(is_shortcode_char) {
        return Vec::new();
    }
    let offered = || {
        emojis::iter()
            .filter(|emoji| emoji.unicode_version() <= NEWEST)
            .map(|emoji| (emoji, emoji.shortcodes()))
    };
    let named = emojis::get_by_shortcode(&prefix).map(|emoji| (emoji, prefix.as_str()));
    let starts = offered().filter_map(|(emoji, mut codes)| {
        codes
            .find(|code| code.starts_with(&prefix))
            .map(|code| (emoji, code))
    });
    let within = offered().filter_map(|(emoji, mut codes)| {
        codes
            .find(|code| {
                !code.starts_with(&prefix)
                    && code
                        .split(['_', '-'])
                        .skip(1)
                        .any(|word| word.starts_with(&prefix))
            })
            .map(|code| (emoji, code))
    });
    let mut matches: Vec<ShortcodeMatch> = Vec::new();
    for (emoji, code) in named.into_iter().chain(starts).chain(within) {
        if matches.len() == MAX_SHORTCODE_MATCHES {
            break;
        }
        let emoji = toned(emoji, tone);
        if matches.iter().all(|m| m.emoji != emoji.as_str()) {
            matches.push(ShortcodeMatch {
                emoji: emoji.as_str().to_owned(),
                shortcode: code.to_owned(),
            });
        }
    }
    matches
}

/// `emoji` in `tone`, if it takes one the picker offers.
fn toned(emoji: &'static emojis::Emoji, tone: protocol::SkinTone) -> &'static emojis::Emoji {
    let tone = match tone {
        protocol::SkinTone::None => return emoji,
        protocol::SkinTone::Light => SkinTone::Light,
        protocol::SkinTone::MediumLight => SkinTone::MediumLight,
        protocol::SkinTone::Medium => SkinTone::Medium,
        protocol::SkinTone::MediumDark => SkinTone::MediumDark,
        protocol::SkinTone::Dark => SkinTone::Dark,
    };
    emoji
        .with_skin_tone(tone)
        .filter(|toned| toned.unicode_version() <= NEWEST)
        .unwrap_or(emoji)
}

/// The catalogue as JSON, built once: every picker fetches the same bytes.
pub fn catalog_json() -> &'static str {
    static JSON: LazyLock<String> =
        LazyLock::new(|| serde_json::to_string(&catalog()).expect("the catalogue serialises"));
    &JSON
}

pub fn catalog() -> Vec<EmojiGroup> {
    Group::iter()
        .map(|group| EmojiGroup {
            name: group_name(group).to_owned(),
            emoji: group
                .emojis()
                .filter(|emoji| emoji.unicode_version() <= NEWEST)
                .map(choice)
                .collect(),
        })
        .collect()
}

fn choice(emoji: &emojis::Emoji) -> EmojiChoice {
    let tones: Vec<String> = TONES
        .iter()
        .filter_map(|&tone| emoji.with_skin_tone(tone))
        .filter(|toned| toned.unicode_version() <= NEWEST)
        .map(|toned| toned.as_str().to_owned())
        .collect();
    EmojiChoice {
        emoji: emoji.as_str().to_owned(),
        name: emoji.name().to_owned(),
        shortcodes: emoji.shortcodes().map(str::to_owned).collect(),
        // All five or none: a picker cannot offer a tone it lacks.
        tones: if tones.len() == TONES.len() {
            tones
        } else {
            Vec::new()
        },
    }
}

fn group_name(group: Group) -> &'static str {
    match group {
        Group::SmileysAndEmotion => "Smileys & emotion",
        Group::PeopleAndBody => "People & body",
        Group::AnimalsAndNature => "Animals & nature",
        Group::FoodAndDrink => "Food & drink",
        Group::TravelAndPlaces => "Travel & places",
        Group::Activities => "Activities",
        Group::Objects => "Objects",
        Group::Symbols => "Symbols",
        Group::Flags => "Flags",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::chat::input::Emoji;

    fn find(emoji: &str) -> Option<EmojiChoice> {
        catalog()
            .into_iter()
            .flat_map(|group| group.emoji)
            .find(|choice| choice.emoji == emoji)
    }

    #[test]
    fn shortcodes_in_a_message_become_the_emoji_they_name() {
        for (typed, stored) in [
            ("ship it :rocket:", "ship it 🚀"),
            (":+1::tada:", "👍🎉"),
            ("(:heart:) and :smile:.", "(❤️) and 😄."),
            ("*done* :white_check_mark:\nnext", "*done* ✅\nnext"),
        ] {
            assert_eq!(replace_shortcodes(typed), stored, "{typed}");
        }
    }

    #[test]
    fn slacks_skin_tone_after_a_shortcode_tones_the_emoji_that_take_one() {
        for (typed, stored) in [
            (":wave::skin-tone-2: hi", "👋🏻 hi"),
            (":+1::skin-tone-6:", "👍🏿"),
            (":rocket::skin-tone-3:", "🚀"),
            (":wave::skin-tone-7:", "👋:skin-tone-7:"),
            (":wave: :skin-tone-2:", "👋 :skin-tone-2:"),
        ] {
            assert_eq!(replace_shortcodes(typed), stored, "{typed}");
        }
    }

    #[test]
    fn the_emoji_offered_for_a_shortcode_come_in_the_chosen_skin_tone_where_they_take_one() {
        let offered = |prefix: &str, tone| -> Vec<String> {
            shortcode_matches(prefix, tone)
                .into_iter()
                .map(|m| format!("{} {}", m.emoji, m.shortcode))
                .collect()
        };
        assert_eq!(offered("+1", protocol::SkinTone::Medium), ["👍🏽 +1"]);
        assert_eq!(offered("+1", protocol::SkinTone::None), ["👍 +1"]);
        assert_eq!(offered("tada", protocol::SkinTone::Dark), ["🎉 tada"]);
        assert_eq!(
            offered("wave", protocol::SkinTone::Light)[0],
            "👋🏻 wave",
            "the shortcode stays the one typed"
        );
    }

    #[test]
    fn code_links_times_unknown_names_and_colons_inside_words_stay_as_written() {
        for text in [
            "`:rocket:`",
            "```\n:rocket:\n```",
            "https://crm.test/:rocket:/x",
            "at 10:30:00",
            "a:rocket:b",
            ":not_an_emoji:",
            ":Rocket:",
            "Re: the deal: tomorrow",
            "::",
        ] {
            assert!(
                matches!(replace_shortcodes(text), Cow::Borrowed(_)),
                "{text}"
            );
        }
    }

    #[test]
    fn a_colon_and_a_few_letters_offer_the_emoji_whose_shortcodes_begin_so_then_those_with_such_a_word()
     {
        let offered = |prefix: &str| -> Vec<String> {
            shortcode_matches(prefix, protocol::SkinTone::None)
                .into_iter()
                .map(|m| format!("{} {}", m.emoji, m.shortcode))
                .collect()
        };
        let rock = offered("rock");
        assert_eq!(rock[0], "🪨 rock", "the one it names first");
        assert!(rock.contains(&"🚀 rocket".to_owned()), "{rock:?}");
        assert_eq!(offered("+1"), ["👍 +1"]);
        assert_eq!(offered("thumbsu"), ["👍 thumbsup"]);
        let words = offered("check");
        assert!(
            words.contains(&"✅ white_check_mark".to_owned()),
            "{words:?}"
        );
        assert_eq!(offered("TADA"), ["🎉 tada"]);
        assert!(offered("sm").len() == MAX_SHORTCODE_MATCHES);
        for nothing in ["", "no such emoji", "zzzzzz", "a:b"] {
            assert!(offered(nothing).is_empty(), "{nothing:?}");
        }
    }

    #[test]
    fn only_emoji_the_picker_offers_have_shortcodes() {
        // Should a newer `emojis` give newer emoji shortcodes, typing them
        // would store emoji that many devices draw as boxes.
        let newer: Vec<&str> = emojis::iter()
            .filter(|e| e.unicode_version() > NEWEST && e.shortcode().is_some())
            .map(emojis::Emoji::as_str)
            .collect();
        assert!(newer.is_empty(), "{newer:?}");
    }

    #[test]
    fn the_catalogue_has_unicodes_groups_in_order_and_every_choice_is_a_valid_reaction() {
        let catalog = catalog();
        let names: Vec<&str> = catalog.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(names.first(), Some(&"Smileys & emotion"));
        assert_eq!(names.last(), Some(&"Flags"));
        assert_eq!(catalog[0].emoji[0].emoji, "😀");
        let all: Vec<&EmojiChoice> = catalog.iter().flat_map(|g| &g.emoji).collect();
        assert!(all.len() > 1800, "{}", all.len());
        for choice in all {
            for emoji in std::iter::once(&choice.emoji).chain(&choice.tones) {
                assert_eq!(Emoji::parse(emoji).unwrap().as_str(), emoji);
            }
        }
    }

    #[test]
    fn a_choice_has_its_name_shortcodes_and_skin_tones() {
        let thumbs = find("👍").unwrap();
        assert_eq!(thumbs.name, "thumbs up");
        assert_eq!(thumbs.shortcodes, ["+1", "thumbsup"]);
        assert_eq!(thumbs.tones, ["👍🏻", "👍🏼", "👍🏽", "👍🏾", "👍🏿"]);
        assert!(find("🚀").unwrap().tones.is_empty());
    }

    #[test]
    fn emoji_newer_than_unicode_15_are_not_offered() {
        assert!(find("🫠").is_some(), "14.0");
        assert!(find("🙂‍↔️").is_none(), "15.1");
    }

    #[test]
    fn the_json_leaves_out_empty_lists() {
        let json = catalog_json();
        assert!(json.starts_with(r#"[{"name":"Smileys & emotion","emoji":[{"emoji":"😀","name":"grinning face","shortcodes":["grinning"]}"#), "{}", &json[..200]);
    }
}
