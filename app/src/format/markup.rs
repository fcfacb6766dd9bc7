//! Message text as it is shown: the light markup people type in WhatsApp and
//! Slack (`*bold*`, `_italic_`, `~strike~`, `` `code` `` and ```` ``` ````
//! fenced blocks, with Markdown's `**bold**`, `__bold__` and `~~strike~~`
//! too), http(s) links and mentions. The server renders and the browser
//! hydrates the same tree, so the rules live here once.
//!
//! The rules, so that ordinary text never turns into markup by accident:
//! - A style opens at a marker that does not follow a letter or digit and is
//!   followed by something other than a space, and closes at the first
//!   matching marker on the same line that follows something other than a
//!   space and is not followed by a letter or digit. So `snake_case_name`,
//!   `2*3*4` and `a * b * c` stay as written.
//! - Code is taken as written: no styles, links or mentions inside it.
//! - Links and mentions are whole: a style starts and ends around them, and
//!   the underscores of `https://crm.test/a_b_c` are part of the link.

use std::ops::Range;

use super::{link_ranges, mentions};
use crate::protocol::UserId;

/// How a stretch of text is styled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    Bold,
    Italic,
    Strike,
}

/// A piece of message text as it is shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Node {
    Text(String),
    Link(String),
    /// `@Name` as written, and whom it names.
    Mention(String, UserId),
    /// `` `code` `` within a line.
    Code(String),
    /// The lines between ```` ``` ```` fences.
    CodeBlock(String),
    Styled(Style, Vec<Node>),
}

/// Message text as a tree of [`Node`]s, mentioning `people` (see
/// [`mentions`]).
pub fn markup(text: &str, people: &[(UserId, &str)]) -> Vec<Node> {
    let mentions = mentions(text, people);
    let mut nodes = Vec::new();
    let mut from = 0;
    for span in code_spans(text) {
        Prose::new(text, from..span.outer.start, &mentions)
            .styled(from..span.outer.start, &mut nodes);
        let code = text[span.inner].to_owned();
        nodes.push(if span.block {
            Node::CodeBlock(code)
        } else {
            Node::Code(code)
        });
        from = span.outer.end;
    }
    Prose::new(text, from..text.len(), &mentions).styled(from..text.len(), &mut nodes);
    nodes
}

/// The text without its style markers, for one-line previews (the list,
/// notifications) that show no styles: "*call* _today_" reads "call today".
/// Code keeps its backticks, so what it holds still reads as code.
pub fn plain_text(text: &str) -> String {
    fn flatten(nodes: Vec<Node>, out: &mut String) {
        for node in nodes {
            match node {
                Node::Text(text) | Node::Link(text) | Node::Mention(text, _) => out.push_str(&text),
                Node::Code(code) => {
                    out.push('`');
                    out.push_str(&code);
                    out.push('`');
                }
                Node::CodeBlock(code) => {
                    out.push_str("```");
                    out.push_str(&code);
                    out.push_str("```");
                }
                Node::Styled(_, inner) => flatten(inner, out),
            }
        }
    }
    if !text.contains(['*', '_', '~']) {
        return text.to_owned();
    }
    let mut plain = String::with_capacity(text.len());
    flatten(markup(text, &[]), &mut plain);
    plain
}

/// Where text holds code, fences and backticks included; nothing in there
/// is a mention.
pub(super) fn code_ranges(text: &str) -> Vec<Range<usize>> {
    code_spans(text)
        .into_iter()
        .map(|span| span.outer)
        .collect()
}

struct CodeSpan {
    /// With its backticks.
    outer: Range<usize>,
    inner: Range<usize>,
    block: bool,
}

fn code_spans(text: &str) -> Vec<CodeSpan> {
    let mut spans = Vec::new();
    let mut from = 0;
    while let Some(at) = text[from..].find('`').map(|i| from + i) {
        let run = text[at..].chars().take_while(|&c| c == '`').count();
        if run >= 3 {
            let Some(close) = text[at + 3..].find("```").map(|i| at + 3 + i) else {
                break;
            };
            // The line breaks next to the fences belong to the fences.
            let mut inner = at + 3..close;
            if text[inner.clone()].starts_with('\n') {
                inner.start += 1;
            }
            if inner.start < inner.end && text[inner.clone()].ends_with('\n') {
                inner.end -= 1;
            }
            if text[inner.clone()].trim().is_empty() {
                from = close;
            } else {
                spans.push(CodeSpan {
                    outer: at..close + 3,
                    inner,
                    block: true,
                });
                from = close + 3;
            }
            continue;
        }
        from = at + run;
        if run == 2 {
            continue;
        }
        // One backtick: code up to the next lone one on the same line.
        let line_end = text[from..].find('\n').map_or(text.len(), |i| from + i);
        if let Some(close) = text[from..line_end].find('`').map(|i| from + i)
            && close > from
            && !text[close + 1..].starts_with('`')
        {
            spans.push(CodeSpan {
                outer: at..close + 1,
                inner: from..close,
                block: false,
            });
            from = close + 1;
        }
    }
    spans
}

/// Text between code: styles around links and mentions, which are whole.
struct Prose<'a> {
    text: &'a str,
    /// Links (`None`) and mentions, in order, not overlapping.
    atoms: Vec<(Range<usize>, Option<UserId>)>,
}

impl<'a> Prose<'a> {
    fn new(text: &'a str, range: Range<usize>, mentions: &[(Range<usize>, UserId)]) -> Self {
        let mut links = link_ranges(&text[range.clone()])
            .into_iter()
            .map(|link| range.start + link.start..range.start + link.end)
            .peekable();
        let mut named = mentions
            .iter()
            .filter(|(at, _)| range.start <= at.start && at.end <= range.end)
            .peekable();
        // Both come in order: merged by hand, which keeps a sort (and its
        // code) out of the WASM. One that overlaps the one before is dropped.
        let mut atoms: Vec<(Range<usize>, Option<UserId>)> = Vec::new();
        loop {
            let next = match (links.peek(), named.peek()) {
                (Some(link), Some((at, _))) if link.start <= at.start => {
                    links.next().map(|l| (l, None))
                }
                (_, Some(_)) => named.next().map(|(at, id)| (at.clone(), Some(*id))),
                (Some(_), None) => links.next().map(|l| (l, None)),
                (None, None) => break,
            };
            if let Some(atom) = next
                && atoms
                    .last()
                    .is_none_or(|(last, _)| last.end <= atom.0.start)
            {
                atoms.push(atom);
            }
        }
        Prose { text, atoms }
    }

    fn atom_at(&self, at: usize) -> Option<&Range<usize>> {
        self.atoms
            .iter()
            .map(|(range, _)| range)
            .find(|range| range.start == at)
    }

    fn styled(&self, range: Range<usize>, out: &mut Vec<Node>) {
        let mut at = range.start;
        let mut plain = range.start;
        while at < range.end {
            if let Some(atom) = self.atom_at(at) {
                at = atom.end;
                continue;
            }
            let Some(c) = self.text[at..].chars().next() else {
                break;
            };
            if let Some((style, length, close)) = self.style_at(at, range.end) {
                self.plain(plain..at, out);
                let mut inner = Vec::new();
                self.styled(at + length..close, &mut inner);
                out.push(Node::Styled(style, inner));
                at = close + length;
                plain = at;
                continue;
            }
            at += c.len_utf8();
        }
        self.plain(plain..range.end, out);
    }

    /// The style a marker at `open` starts, its marker's length and where
    /// its closing marker is, if it has one before `end`.
    fn style_at(&self, open: usize, end: usize) -> Option<(Style, usize, usize)> {
        let text = self.text;
        let marker = text[open..].chars().next()?;
        let length = self.run(open, marker);
        let style = match (marker, length) {
            ('*', 1) | ('*' | '_', 2) => Style::Bold,
            ('_', 1) => Style::Italic,
            ('~', 1 | 2) => Style::Strike,
            _ => return None,
        };
        let after_word = text[..open]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == marker);
        let first = text
            .get(open + length..end)
            .and_then(|rest| rest.chars().next());
        if after_word || first.is_none_or(char::is_whitespace) {
            return None;
        }
        let mut at = open + length;
        while at < end {
            if let Some(atom) = self.atom_at(at) {
                at = atom.end;
                continue;
            }
            let c = text[at..].chars().next()?;
            if c == '\n' {
                return None;
            }
            let closes = c == marker
                && self.run(at, marker) == length
                && at + length <= end
                && !text[..at].ends_with(char::is_whitespace)
                && !text[..at].ends_with(marker)
                && !text[at + length..]
                    .chars()
                    .next()
                    .is_some_and(char::is_alphanumeric);
            if closes && at > open + length {
                return Some((style, length, at));
            }
            at += if c == marker {
                self.run(at, marker)
            } else {
                c.len_utf8()
            };
        }
        None
    }

    /// How many `marker`s in a row start at `at`.
    fn run(&self, at: usize, marker: char) -> usize {
        self.text[at..].chars().take_while(|&c| c == marker).count()
    }

    /// Text with its links and mentions.
    fn plain(&self, range: Range<usize>, out: &mut Vec<Node>) {
        let mut from = range.start;
        for (atom, named) in &self.atoms {
            if atom.start < range.start || atom.end > range.end {
                continue;
            }
            self.text_node(from..atom.start, out);
            let written = self.text[atom.clone()].to_owned();
            out.push(match named {
                Some(id) => Node::Mention(written, *id),
                None => Node::Link(written),
            });
            from = atom.end;
        }
        self.text_node(from..range.end, out);
    }

    fn text_node(&self, range: Range<usize>, out: &mut Vec<Node>) {
        if range.is_empty() {
            return;
        }
        match out.last_mut() {
            Some(Node::Text(known)) => known.push_str(&self.text[range]),
            _ => out.push(Node::Text(self.text[range].to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Node::{Code, CodeBlock, Link, Mention, Styled, Text};
    use Style::{Bold, Italic, Strike};

    const ANN: UserId = UserId(1);
    const BOB: UserId = UserId(3);
    const PEOPLE: &[(UserId, &str)] = &[(ANN, "Ann"), (BOB, "Bob Stone")];

    fn text(s: &str) -> Node {
        Text(s.into())
    }

    fn styled(style: Style, inner: &[Node]) -> Node {
        Styled(style, inner.to_vec())
    }

    fn shown(s: &str) -> Vec<Node> {
        markup(s, PEOPLE)
    }

    #[test]
    fn plain_text_is_one_text_node() {
        assert_eq!(shown("no markup here"), vec![text("no markup here")]);
        assert_eq!(shown(""), vec![]);
    }

    #[test]
    fn asterisks_underscores_and_tildes_style_what_they_surround() {
        assert_eq!(
            shown("call *today*, _please_ ~not~ tomorrow"),
            vec![
                text("call "),
                styled(Bold, &[text("today")]),
                text(", "),
                styled(Italic, &[text("please")]),
                text(" "),
                styled(Strike, &[text("not")]),
                text(" tomorrow"),
            ]
        );
    }

    #[test]
    fn markdown_s_doubled_markers_work_too() {
        assert_eq!(
            shown("**big** __also__ ~~gone~~"),
            vec![
                styled(Bold, &[text("big")]),
                text(" "),
                styled(Bold, &[text("also")]),
                text(" "),
                styled(Strike, &[text("gone")]),
            ]
        );
    }

    #[test]
    fn styles_nest() {
        assert_eq!(
            shown("*bold _and italic_*"),
            vec![styled(
                Bold,
                &[text("bold "), styled(Italic, &[text("and italic")])]
            )]
        );
    }

    #[test]
    fn markers_inside_words_numbers_or_spaced_out_stay_as_written() {
        for plain in [
            "snake_case_name",
            "2*3*4 = 24",
            "a * b * c",
            "*not closed",
            "_ spaced _",
            "**",
            "*a\nb*",
            "x*y* and *y*x",
        ] {
            assert_eq!(shown(plain), vec![text(plain)], "{plain}");
        }
    }

    #[test]
    fn code_is_shown_as_written() {
        assert_eq!(
            shown("run `cargo *test*` now"),
            vec![text("run "), Code("cargo *test*".into()), text(" now")]
        );
        assert_eq!(
            shown("before\n```\nfn main() {\n    *x* = 1;\n}\n```\nafter"),
            vec![
                text("before\n"),
                CodeBlock("fn main() {\n    *x* = 1;\n}".into()),
                text("\nafter"),
            ]
        );
        assert_eq!(shown("``, ` alone, ```"), vec![text("``, ` alone, ```")]);
        assert_eq!(
            shown("`a\nb`"),
            vec![text("`a\nb`")],
            "inline code stays on one line"
        );
    }

    #[test]
    fn links_and_mentions_are_whole_and_can_be_styled() {
        assert_eq!(
            shown("see https://crm.test/a_b_c and *https://crm.test/x*"),
            vec![
                text("see "),
                Link("https://crm.test/a_b_c".into()),
                text(" and "),
                styled(Bold, &[Link("https://crm.test/x".into())]),
            ]
        );
        assert_eq!(
            shown("_@Ann_, @Bob Stone: ok"),
            vec![
                styled(Italic, &[Mention("@Ann".into(), ANN)]),
                text(", "),
                Mention("@Bob Stone".into(), BOB),
                text(": ok"),
            ]
        );
    }

    #[test]
    fn previews_drop_style_markers_and_keep_code_as_written() {
        assert_eq!(
            plain_text("*urgent*: call _today_, ~not~ `x*y*`"),
            "urgent: call today, not `x*y*`"
        );
        assert_eq!(plain_text("snake_case_name"), "snake_case_name");
        assert_eq!(plain_text("```\nSELECT *\n```"), "```SELECT *```");
    }

    #[test]
    fn a_name_in_code_mentions_nobody() {
        assert_eq!(shown("`@Ann`"), vec![Code("@Ann".into())]);
        assert!(mentions("`@Ann` and ```\n@Ann\n```", PEOPLE).is_empty());
        assert_eq!(mentions("`x` @Ann", PEOPLE).len(), 1);
    }
}
