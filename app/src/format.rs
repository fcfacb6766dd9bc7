//! How times, sizes and message text are shown. Pure functions, the same on
//! the server and in the browser: times take the viewer's UTC offset (the
//! browser tells the server in a cookie), so the server renders what the
//! browser would.

use std::ops::Range;

use crate::protocol::UserId;

mod markup;
pub use markup::{Node, Style, continue_block, markup, plain_text};

/// Minutes east of UTC, e.g. 60 for Paris in winter.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Offset(pub i32);

/// The cookie in which the browser tells the server its UTC offset.
pub const OFFSET_COOKIE: &str = "crm_chat_tz";

const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 24 * 60 * MINUTE_MS;

/// Local wall-clock parts of a unix-millisecond time.
struct Local {
    day: i64,
    hour: i64,
    minute: i64,
}

fn local(at_ms: i64, offset: Offset) -> Local {
    let shifted = at_ms + i64::from(offset.0) * MINUTE_MS;
    let day = shifted.div_euclid(DAY_MS);
    let in_day = shifted.rem_euclid(DAY_MS);
    Local {
        day,
        hour: in_day / (60 * MINUTE_MS),
        minute: in_day / MINUTE_MS % 60,
    }
}

/// Year, month (1-12) and day of a count of days since 1970-01-01
/// (Howard Hinnant's `civil_from_days`).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const WEEKDAYS: [&str; 7] = [
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
];

/// "14:02".
pub fn clock(at_ms: i64, offset: Offset) -> String {
    let t = local(at_ms, offset);
    format!("{:02}:{:02}", t.hour, t.minute)
}

/// "12 Mar", or "12 Mar 2025" in another year.
fn date(day: i64, today: i64) -> String {
    let (year, month, d) = civil(day);
    let (this_year, _, _) = civil(today);
    let name = MONTHS[(month - 1) as usize];
    if year == this_year {
        format!("{d} {name}")
    } else {
        format!("{d} {name} {year}")
    }
}

/// For the conversation list: "14:02" today, "Yesterday", then a date.
pub fn list_time(at_ms: i64, now_ms: i64, offset: Offset) -> String {
    let (at, now) = (local(at_ms, offset), local(now_ms, offset));
    match now.day - at.day {
        0 => clock(at_ms, offset),
        1 => "Yesterday".to_owned(),
        _ => date(at.day, now.day),
    }
}

/// For day separators in a thread: "Today", "Yesterday", the weekday within
/// a week, then a date.
pub fn day_label(at_ms: i64, now_ms: i64, offset: Offset) -> String {
    let (at, now) = (local(at_ms, offset), local(now_ms, offset));
    match now.day - at.day {
        0 => "Today".to_owned(),
        1 => "Yesterday".to_owned(),
        2..=6 => WEEKDAYS[at.day.rem_euclid(7) as usize].to_owned(),
        _ => date(at.day, now.day),
    }
}

/// The local day of a time, to tell whether two messages share a day.
pub fn day_of(at_ms: i64, offset: Offset) -> i64 {
    local(at_ms, offset).day
}

/// "last seen today at 09:12", "last seen yesterday at 18:40", "last seen 3 Mar".
pub fn last_seen(at_ms: i64, now_ms: i64, offset: Offset) -> String {
    let (at, now) = (local(at_ms, offset), local(now_ms, offset));
    match now.day - at.day {
        0 => format!("last seen today at {}", clock(at_ms, offset)),
        1 => format!("last seen yesterday at {}", clock(at_ms, offset)),
        _ => format!("last seen {}", date(at.day, now.day)),
    }
}

/// How a person shows beside their name: "online", or when they were last
/// seen; `None` for someone the server has never seen online.
pub fn presence(
    is_online: bool,
    last_seen_at: Option<i64>,
    now_ms: i64,
    offset: Offset,
) -> Option<String> {
    if is_online {
        Some("online".to_owned())
    } else {
        last_seen_at.map(|at| last_seen(at, now_ms, offset))
    }
}

/// "just now", "5 min", "3 h", then a list time, for notifications.
pub fn relative(at_ms: i64, now_ms: i64, offset: Offset) -> String {
    let ago = now_ms - at_ms;
    if ago < MINUTE_MS {
        "just now".to_owned()
    } else if ago < 60 * MINUTE_MS {
        format!("{} min ago", ago / MINUTE_MS)
    } else if ago < 12 * 60 * MINUTE_MS {
        format!("{} h ago", ago / (60 * MINUTE_MS))
    } else {
        list_time(at_ms, now_ms, offset)
    }
}

/// "512 B", "14 KB", "3.2 MB", rounded half up. In integers: formatting a
/// float would bring the float formatting code into the WASM for this alone.
pub fn file_size(bytes: i64) -> String {
    const KB: i64 = 1024;
    const MB: i64 = KB * KB;
    let bytes = bytes.max(0);
    if bytes < KB {
        format!("{bytes} B")
    } else if bytes < MB - KB / 2 {
        format!("{} KB", (bytes + KB / 2) / KB)
    } else {
        let tenths = (bytes * 10 + MB / 2) / MB;
        format!("{}.{} MB", tenths / 10, tenths % 10)
    }
}

/// Up to two initials of a display name, for avatars.
pub fn initials(name: &str) -> String {
    let firsts: String = name
        .split_whitespace()
        .filter_map(|word| word.chars().next())
        .take(2)
        .collect();
    upper_case(&firsts)
}

/// Unicode upper case. In the browser it is the browser's own: Rust's
/// `to_uppercase` and `to_lowercase` would bring their Unicode case tables
/// (about 24 KB) into the WASM. Both follow Unicode's default case mapping,
/// so the server renders what the browser would.
pub fn upper_case(text: &str) -> String {
    #[cfg(feature = "hydrate")]
    return js_sys::JsString::from(text).to_upper_case().into();
    #[cfg(not(feature = "hydrate"))]
    return text.to_uppercase();
}

/// Unicode lower case, for matching filters (see [`upper_case`]).
pub fn lower_case(text: &str) -> String {
    #[cfg(feature = "hydrate")]
    return js_sys::JsString::from(text).to_lower_case().into();
    #[cfg(not(feature = "hydrate"))]
    return text.to_lowercase();
}

/// Where text is taken as written: its code (see [`markup`]) and its links.
pub fn literal_ranges(text: &str) -> Vec<Range<usize>> {
    let mut ranges = if text.contains('`') {
        markup::code_ranges(text)
    } else {
        Vec::new()
    };
    ranges.extend(link_ranges(text));
    ranges
}

/// Where `text` mentions one of `people` (`(id, display name)`): an `@` at
/// the start of a word, then the person's name (ASCII letters in any case),
/// then the end of a word. The longest name wins, so "@Ann Lee" names Ann
/// Lee, not Ann. An address such as `bob@acme.test` mentions nobody, nor
/// does a name inside code (see [`markup`]).
/// Byte ranges of each `@…`, in order, with whom it names.
///
/// The server reads mentions with it when a message is sent, and the
/// browser with the same rules when it shows one, so both always agree.
pub fn mentions(text: &str, people: &[(UserId, &str)]) -> Vec<(Range<usize>, UserId)> {
    let mut found = Vec::new();
    let mut from = 0;
    let code = if text.contains('`') {
        markup::code_ranges(text)
    } else {
        Vec::new()
    };
    while let Some(offset) = text[from..].find('@') {
        let at = from + offset;
        from = at + 1;
        if !starts_word(&text[..at]) || code.iter().any(|range| range.contains(&at)) {
            continue;
        }
        let name_at = at + 1;
        let longest = people
            .iter()
            .filter(|(_, name)| !name.is_empty())
            .filter(|(_, name)| {
                text.get(name_at..name_at + name.len())
                    .is_some_and(|written| written.eq_ignore_ascii_case(name))
                    && ends_name(&text[name_at + name.len()..])
            })
            .max_by_key(|(_, name)| name.len());
        if let Some((id, name)) = longest {
            let end = name_at + name.len();
            found.push((at..end, *id));
            from = end;
        }
    }
    found
}

/// The mention being typed just before the caret: where its `@` is, and
/// what follows it (`"Ann L"` in `"ask @Ann L"`). None when the `@` does
/// not start a word, or a line break or 30 characters separate it from the
/// caret.
pub fn mention_at_caret(before_caret: &str) -> Option<(usize, &str)> {
    let at = before_caret.rfind('@')?;
    let query = &before_caret[at + 1..];
    (starts_word(&before_caret[..at]) && !query.contains('\n') && query.chars().count() <= 30)
        .then_some((at, query))
}

/// Whether a character may be part of an emoji's `:shortcode:`.
pub fn is_shortcode_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '+' | '-')
}

/// Whether a `:` after this text may open a shortcode: it does not touch a
/// letter or digit (`10:30`, `a:b`).
pub fn colon_stands_apart(before: &str) -> bool {
    before
        .chars()
        .next_back()
        .is_none_or(|c| !c.is_alphanumeric())
}

/// The `:shortcode` being typed just before the caret, from two characters
/// on, as Slack offers them: where its `:` is, and what follows it
/// (`"roc"` in `"ship it :roc"`). None when the `:` touches a letter or
/// digit before it (`10:30`), as a shortcode there would stay as written.
pub fn shortcode_at_caret(before_caret: &str) -> Option<(usize, &str)> {
    let colon = before_caret.rfind(':')?;
    let typed = &before_caret[colon + 1..];
    (colon_stands_apart(&before_caret[..colon])
        && typed.len() >= 2
        && typed.chars().all(is_shortcode_char))
    .then_some((colon, typed))
}

/// Whom `@all` and `@everyone` name: every member of the conversation, as
/// in Slack and Mattermost. No user has this id.
pub const EVERYONE: UserId = UserId(0);

/// The words that mention [`EVERYONE`], after an `@`.
pub const EVERYONE_WORDS: [&str; 2] = ["all", "everyone"];

/// `people`, and the words that mention them all at once (see [`EVERYONE`]).
pub fn and_everyone<'a>(people: &[(UserId, &'a str)]) -> Vec<(UserId, &'a str)> {
    let mut all = people.to_vec();
    all.extend(EVERYONE_WORDS.map(|word| (EVERYONE, word)));
    all
}

/// Whether `text` mentions this one person, by name or with `@all` (see
/// [`mentions`]).
pub fn mentions_person(text: &str, id: UserId, name: &str) -> bool {
    !mentions(text, &and_everyone(&[(id, name)])).is_empty()
}

/// Whether a person fits a mention being typed: their name, or one of its
/// words, begins with it (in any case), so "@lee" finds Ann Lee.
pub fn name_fits(name: &str, typed: &str) -> bool {
    let (name, typed) = (lower_case(name), lower_case(typed));
    name.starts_with(&typed)
        || (!typed.contains(' ') && name.split_whitespace().any(|word| word.starts_with(&typed)))
}

/// Whether an `@` after this text starts a word: at the start, after a
/// space, or after an opening bracket or quote.
fn starts_word(before: &str) -> bool {
    before
        .chars()
        .next_back()
        .is_none_or(|c| c.is_whitespace() || "([{\"'*_~".contains(c))
}

/// Whether a name may end before this text: "@Ann," and "@Ann's" name Ann,
/// "@Ann_x" and "@Ann-Marie" do not; nor does "_@Ann_" after a style's
/// closing marker ("_@Ann_" in italics names Ann).
fn ends_name(after: &str) -> bool {
    let Some(next) = after.chars().next() else {
        return true;
    };
    if matches!(next, '*' | '_' | '~') {
        let rest = after.trim_start_matches(next);
        return rest
            .chars()
            .next()
            .is_none_or(|c| !c.is_alphanumeric() && !matches!(c, '-' | '@'));
    }
    next.is_whitespace() || (next.is_ascii_punctuation() && !matches!(next, '-' | '@'))
}

/// Where text holds http(s) links, as byte ranges in order. Only `http://`
/// and `https://` make links; trailing punctuation stays text.
pub fn link_ranges(text: &str) -> Vec<Range<usize>> {
    let mut links = Vec::new();
    let mut from = 0;
    while let Some(start) = find_link_start(&text[from..]).map(|at| from + at) {
        let rest = &text[start..];
        let end = rest
            .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"'))
            .unwrap_or(rest.len());
        let mut link = &rest[..end];
        while let Some(last) = link.chars().last() {
            let unbalanced_paren =
                last == ')' && link.matches('(').count() < link.matches(')').count();
            // `*`, `_` and `~` close a style around the link: "*https://…*".
            if matches!(
                last,
                '.' | ',' | ';' | ':' | '!' | '?' | '\'' | '*' | '_' | '~'
            ) || unbalanced_paren
            {
                link = &link[..link.len() - last.len_utf8()];
            } else {
                break;
            }
        }
        let scheme_only =
            link.eq_ignore_ascii_case("http://") || link.eq_ignore_ascii_case("https://");
        if !scheme_only {
            links.push(start..start + link.len());
        }
        from = start + link.len().max(1);
    }
    links
}

fn find_link_start(text: &str) -> Option<usize> {
    let lower = text.to_ascii_lowercase();
    [lower.find("https://"), lower.find("http://")]
        .into_iter()
        .flatten()
        .min()
}

/// "Alice is typing…", "Alice and Bob are typing…", "Alice, Bob and 2 others are typing…".
pub fn typing_line(names: &[String]) -> Option<String> {
    match names {
        [] => None,
        [one] => Some(format!("{one} is typing…")),
        [a, b] => Some(format!("{a} and {b} are typing…")),
        [a, b, rest @ ..] => Some(format!(
            "{a}, {b} and {} other{} are typing…",
            rest.len(),
            if rest.len() == 1 { "" } else { "s" }
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2026-03-12 14:02:00 UTC
    const AT: i64 = 1_773_324_120_000;

    #[test]
    fn clock_times_follow_the_viewer_s_offset() {
        assert_eq!(clock(AT, Offset(0)), "14:02");
        assert_eq!(clock(AT, Offset(60)), "15:02");
        assert_eq!(clock(AT, Offset(-300)), "09:02");
    }

    #[test]
    fn list_times_say_today_yesterday_or_a_date() {
        let o = Offset(0);
        assert_eq!(list_time(AT, AT + 60_000, o), "14:02");
        assert_eq!(list_time(AT, AT + DAY_MS, o), "Yesterday");
        assert_eq!(list_time(AT, AT + 3 * DAY_MS, o), "12 Mar");
        assert_eq!(list_time(AT, AT + 400 * DAY_MS, o), "12 Mar 2026");
    }

    #[test]
    fn the_day_changes_at_the_viewer_s_midnight() {
        // 23:30 UTC on the 12th is already the 13th in Paris.
        let late = AT + (9 * 60 + 28) * 60_000;
        assert_eq!(day_label(late, late, Offset(60)), "Today");
        assert_ne!(day_of(late, Offset(0)), day_of(late, Offset(60)));
    }

    #[test]
    fn day_labels_name_the_weekday_within_a_week() {
        // 2026-03-12 was a Thursday.
        assert_eq!(day_label(AT, AT + 3 * DAY_MS, Offset(0)), "Thursday");
        assert_eq!(day_label(AT, AT + 8 * DAY_MS, Offset(0)), "12 Mar");
    }

    #[test]
    fn presence_is_online_or_when_last_seen() {
        let now = AT + 1000;
        assert_eq!(
            presence(true, Some(AT), now, Offset(0)).as_deref(),
            Some("online")
        );
        assert_eq!(
            presence(false, Some(AT), now, Offset(0)).as_deref(),
            Some("last seen today at 14:02")
        );
        assert_eq!(presence(false, None, now, Offset(0)), None);
    }

    #[test]
    fn last_seen_reads_like_a_messenger() {
        assert_eq!(
            last_seen(AT, AT + 1000, Offset(0)),
            "last seen today at 14:02"
        );
        assert_eq!(
            last_seen(AT, AT + DAY_MS, Offset(0)),
            "last seen yesterday at 14:02"
        );
    }

    #[test]
    fn sizes_are_human() {
        assert_eq!(file_size(512), "512 B");
        assert_eq!(file_size(14 * 1024), "14 KB");
        assert_eq!(file_size(3_355_443), "3.2 MB");
        assert_eq!(file_size(1023), "1023 B");
        assert_eq!(file_size(1024 + 511), "1 KB");
        assert_eq!(file_size(1024 + 512), "2 KB");
        assert_eq!(file_size(1024 * 1024 - 513), "1023 KB");
        assert_eq!(file_size(1024 * 1024 - 512), "1.0 MB");
        assert_eq!(file_size(20 * 1024 * 1024), "20.0 MB");
    }

    fn linked(text: &str) -> Vec<&str> {
        link_ranges(text).into_iter().map(|r| &text[r]).collect()
    }

    #[test]
    fn only_http_links_become_links_and_punctuation_stays_text() {
        assert_eq!(
            linked("see https://crm.example.com/leads/7, then call."),
            vec!["https://crm.example.com/leads/7"]
        );
        assert!(linked("javascript:alert(1) ftp://x").is_empty());
        assert_eq!(linked("(http://a.b/c_(d))"), vec!["http://a.b/c_(d)"]);
        assert!(linked("http:// alone").is_empty());
        assert_eq!(
            linked("*https://a.b/x* and HTTP://A.B"),
            vec!["https://a.b/x", "HTTP://A.B"]
        );
    }

    const ANN: UserId = UserId(1);
    const ANN_LEE: UserId = UserId(2);
    const BOB: UserId = UserId(3);
    const PEOPLE: &[(UserId, &str)] = &[(ANN, "Ann"), (ANN_LEE, "Ann Lee"), (BOB, "Bob Stone")];

    fn named(text: &str) -> Vec<(&str, UserId)> {
        mentions(text, PEOPLE)
            .into_iter()
            .map(|(range, id)| (&text[range], id))
            .collect()
    }

    #[test]
    fn a_mention_is_an_at_sign_and_a_whole_name_at_the_start_of_a_word() {
        assert_eq!(
            named("@Bob Stone, see (@ann) and @Ann Lee."),
            vec![("@Bob Stone", BOB), ("@ann", ANN), ("@Ann Lee", ANN_LEE)]
        );
        assert_eq!(named("@bob stone: hi"), vec![("@bob stone", BOB)]);
        assert_eq!(named("@Ann's lead"), vec![("@Ann", ANN)]);
        // Inside markup's markers, as `markup` shows them.
        assert_eq!(
            named("*@Bob Stone* and _@ann_"),
            vec![("@Bob Stone", BOB), ("@ann", ANN)]
        );
    }

    #[test]
    fn addresses_partial_names_and_longer_words_mention_nobody() {
        assert_eq!(named("write to ann@acme.test"), vec![]);
        assert_eq!(named("@Bob alone is not Bob Stone"), vec![]);
        assert_eq!(named("@Annabel, @Ann_x and @Ann-Marie"), vec![]);
        assert_eq!(named("@ @@Ann"), vec![]);
        assert_eq!(mentions("@Ann", &[(ANN, "")]), vec![]);
    }

    #[test]
    fn at_all_and_at_everyone_mention_everyone_and_words_that_start_with_them_do_not() {
        let found = |text: &str| {
            mentions(text, &and_everyone(PEOPLE))
                .into_iter()
                .map(|(range, id)| (text[range].to_owned(), id))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            found("@all, and @Everyone: @Ann too"),
            vec![
                ("@all".to_owned(), EVERYONE),
                ("@Everyone".to_owned(), EVERYONE),
                ("@Ann".to_owned(), ANN)
            ]
        );
        assert_eq!(found("@alligator, ball@all.test, `@all`"), vec![]);
        assert!(mentions_person("thanks @all!", BOB, "Bob Stone"));
        assert!(mentions_person("@bob stone", BOB, "Bob Stone"));
        assert!(!mentions_person("@allison", BOB, "Bob Stone"));
    }

    #[test]
    fn the_mention_being_typed_starts_at_an_at_sign_that_starts_a_word() {
        assert_eq!(mention_at_caret("ask @Ann L"), Some((4, "Ann L")));
        assert_eq!(mention_at_caret("@"), Some((0, "")));
        assert_eq!(mention_at_caret("(@bo"), Some((1, "bo")));
        assert_eq!(mention_at_caret("mail ann@acme"), None);
        assert_eq!(mention_at_caret("@Ann\nand then"), None);
        assert_eq!(mention_at_caret("no at sign"), None);
        assert_eq!(mention_at_caret(&format!("@{}", "x".repeat(31))), None);
    }

    #[test]
    fn the_shortcode_being_typed_starts_at_a_colon_apart_from_the_word_before_and_has_two_characters()
     {
        assert_eq!(shortcode_at_caret("ship it :roc"), Some((8, "roc")));
        assert_eq!(shortcode_at_caret(":+1"), Some((0, "+1")));
        assert_eq!(shortcode_at_caret(":+1::ta"), Some((4, "ta")));
        assert_eq!(shortcode_at_caret("(:white_ch"), Some((1, "white_ch")));
        assert_eq!(shortcode_at_caret(":r"), None, "one character");
        assert_eq!(shortcode_at_caret("at 10:30"), None);
        assert_eq!(shortcode_at_caret("Re: the deal"), None);
        assert_eq!(shortcode_at_caret("no colon"), None);
    }

    #[test]
    fn a_name_fits_what_is_typed_from_its_start_or_any_word() {
        assert!(name_fits("Ann Lee", ""));
        assert!(name_fits("Ann Lee", "ann l"));
        assert!(name_fits("Ann Lee", "lee"));
        assert!(!name_fits("Ann Lee", "lee a"));
        assert!(!name_fits("Ann Lee", "bob"));
    }

    #[test]
    fn typing_lines_name_up_to_two_people() {
        let names = |n: &[&str]| n.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(typing_line(&[]), None);
        assert_eq!(typing_line(&names(&["Alice"])).unwrap(), "Alice is typing…");
        assert_eq!(
            typing_line(&names(&["Alice", "Bob"])).unwrap(),
            "Alice and Bob are typing…"
        );
        assert_eq!(
            typing_line(&names(&["Alice", "Bob", "Dave"])).unwrap(),
            "Alice, Bob and 1 other are typing…"
        );
    }

    #[test]
    fn initials_take_the_first_letter_of_up_to_two_words() {
        assert_eq!(initials("Alice Admin"), "AA");
        assert_eq!(initials("bob"), "B");
        assert_eq!(initials(""), "");
        assert_eq!(initials("élodie Ünal"), "ÉÜ");
        assert_eq!(lower_case("ZOË Straße"), "zoë straße");
    }
}
