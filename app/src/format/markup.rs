//! Message text as it is shown: the light markup people type in WhatsApp and
//! Slack (`*bold*`, `_italic_`, `~strike~`, `` `code` `` and ```` ``` ````
//! fenced blocks, with Markdown's `**bold**`, `__bold__` and `~~strike~~`
//! too; `> ` quotes, and `- ` or `1. ` lists), http(s) links and mentions.
//! The server renders and the browser hydrates the same tree, so the rules
//! live here once.
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
//! - A line that starts with `> ` is quoted; one that starts with `- `, `* `
//!   or `• ` is a bullet, and one that starts with up to three digits and
//!   `. ` or `) ` a numbered item. Lines in a row of one kind make one quote
//!   or list, which takes the line breaks around it, as a code block's
//!   fences take theirs. The marker must start the line and something must
//!   follow it, and code lines are never blocks, so `-5 °C`, `3.5 hours`
//!   and a `- ` inside ```` ``` ```` stay as written.

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
    /// Lines that start with `> `, without it, one line break apart.
    Quote(Vec<Node>),
    /// Lines that start with `- `, `* ` or `• `: one item each.
    Bullets(Vec<Vec<Node>>),
    /// Lines that start with `1. ` or `1) `, numbered from the first one's
    /// number, as Markdown does.
    Numbered(u32, Vec<Vec<Node>>),
}

/// Message text as a tree of [`Node`]s, mentioning `people` (see
/// [`mentions`]).
pub fn markup(text: &str, people: &[(UserId, &str)]) -> Vec<Node> {
    let inline = Inline {
        text,
        code: code_spans(text),
        mentions: mentions(text, people),
    };
    let mut nodes = Vec::new();
    // Where the text not yet in `nodes` starts, and the block being read:
    // its kind, where its first line starts and its lines' contents.
    let mut from = 0;
    let mut block: Option<(Block, usize, Vec<Range<usize>>)> = None;
    let mut line_start = 0;
    loop {
        let line_end = text[line_start..]
            .find('\n')
            .map_or(text.len(), |i| line_start + i);
        let line = inline.block_line(line_start..line_end);
        if let Some(ended) =
            block.take_if(|(kind, ..)| line.as_ref().is_none_or(|(next, _)| !next.continues(*kind)))
        {
            from = inline.close(ended, from, &mut nodes);
        }
        if let Some((kind, content)) = line {
            block
                .get_or_insert_with(|| (kind, line_start, Vec::new()))
                .2
                .push(content);
        }
        if line_end == text.len() {
            break;
        }
        line_start = line_end + 1;
    }
    if let Some(last) = block {
        from = inline.close(last, from, &mut nodes);
    }
    inline.nodes(from..text.len(), &mut nodes);
    nodes
}

/// The kind of block a line is part of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Block {
    Quote,
    Bullet,
    Numbered(u32),
}

impl Block {
    /// The kind of block `line` is part of, if any, and how long its marker
    /// is.
    fn of(line: &str) -> Option<(Block, usize)> {
        let (kind, marker) = Block::marker(line)?;
        (!line[marker..].trim().is_empty()).then_some((kind, marker))
    }

    /// The marker `line` starts with, written after or not.
    fn marker(line: &str) -> Option<(Block, usize)> {
        let digits = line.bytes().take_while(u8::is_ascii_digit).count();
        let (kind, marker) = if line.starts_with("> ") {
            (Block::Quote, 2)
        } else if let Some(bullet) = ["- ", "* ", "• "].iter().find(|b| line.starts_with(**b)) {
            (Block::Bullet, bullet.len())
        } else if (1..=3).contains(&digits)
            && matches!(line.as_bytes().get(digits..digits + 2), Some(b". " | b") "))
        {
            (Block::Numbered(line[..digits].parse().ok()?), digits + 2)
        } else {
            return None;
        };
        Some((kind, marker))
    }

    /// Whether a line of this kind goes on a block of kind `block`.
    fn continues(self, block: Block) -> bool {
        match (self, block) {
            (Block::Numbered(_), Block::Numbered(_)) => true,
            _ => self == block,
        }
    }
}

/// What Shift+Enter at `caret` (a byte offset) does on a line of a list or
/// a quote, as in Slack: the text and caret after it. After `- call` comes
/// a line that starts with `- `, after `3. sign` one with `4. `; on an item
/// with nothing after its marker, the marker goes and the list ends there.
/// `None` on any other line, in code, or with the caret in the marker.
pub fn continue_block(text: &str, caret: usize) -> Option<(String, usize)> {
    let start = text.get(..caret)?.rfind('\n').map_or(0, |i| i + 1);
    let end = text[caret..].find('\n').map_or(text.len(), |i| caret + i);
    let line = &text[start..end];
    let (kind, marker) = Block::marker(line)?;
    // Inside a fence, closed yet or not.
    let in_code = text[..start].matches("```").count() % 2 == 1;
    if caret < start + marker || in_code {
        return None;
    }
    if line[marker..].trim().is_empty() {
        return Some(([&text[..start], &text[end..]].concat(), start));
    }
    let next = match kind {
        // The same `. ` or `) ` after the next number.
        Block::Numbered(number) => format!("{}{}", number + 1, &line[marker - 2..marker]),
        Block::Quote | Block::Bullet => line[..marker].to_owned(),
    };
    let inserted = format!("\n{next}");
    let typed = [&text[..caret], &inserted, &text[caret..]].concat();
    Some((typed, caret + inserted.len()))
}

/// The text with its code and mentions found: what turns ranges of it into
/// nodes.
struct Inline<'a> {
    text: &'a str,
    code: Vec<CodeSpan>,
    mentions: Vec<(Range<usize>, UserId)>,
}

impl Inline<'_> {
    /// The block the line at `line` is part of and its content, unless it
    /// starts in code or a code block starts on it.
    fn block_line(&self, line: Range<usize>) -> Option<(Block, Range<usize>)> {
        let in_code = self.code.iter().any(|span| {
            span.outer.start < line.start && line.start < span.outer.end
                || span.outer.start < line.end && line.end < span.outer.end
        });
        if in_code {
            return None;
        }
        let (kind, marker) = Block::of(&self.text[line.clone()])?;
        Some((kind, line.start + marker..line.end))
    }

    /// Adds the text from `from` up to a block that has ended, then the
    /// block; the text after it starts where this returns. The line breaks
    /// on either side belong to the block.
    fn close(
        &self,
        (kind, first, lines): (Block, usize, Vec<Range<usize>>),
        from: usize,
        out: &mut Vec<Node>,
    ) -> usize {
        let before = if first > from { first - 1 } else { first };
        self.nodes(from..before, out);
        out.push(self.block(kind, &lines));
        (lines[lines.len() - 1].end + 1).min(self.text.len())
    }

    fn block(&self, kind: Block, lines: &[Range<usize>]) -> Node {
        let items = lines.iter().map(|line| {
            let mut item = Vec::new();
            self.nodes(line.clone(), &mut item);
            item
        });
        match kind {
            Block::Quote => {
                let mut quoted = Vec::new();
                for (i, line) in lines.iter().enumerate() {
                    if i > 0 {
                        push_text(&mut quoted, "\n");
                    }
                    self.nodes(line.clone(), &mut quoted);
                }
                Node::Quote(quoted)
            }
            Block::Bullet => Node::Bullets(items.collect()),
            Block::Numbered(first) => Node::Numbered(first, items.collect()),
        }
    }

    /// The nodes of `range`, which holds no block: its code, and prose
    /// around it.
    fn nodes(&self, range: Range<usize>, out: &mut Vec<Node>) {
        let mut from = range.start;
        for span in &self.code {
            if span.outer.start < range.start || span.outer.end > range.end {
                continue;
            }
            Prose::new(self.text, from..span.outer.start, &self.mentions)
                .styled(from..span.outer.start, out);
            let code = self.text[span.inner.clone()].to_owned();
            out.push(if span.block {
                Node::CodeBlock(code)
            } else {
                Node::Code(code)
            });
            from = span.outer.end;
        }
        Prose::new(self.text, from..range.end, &self.mentions).styled(from..range.end, out);
    }
}

/// Adds `text` to the nodes, to the text node they end with if they do.
fn push_text(out: &mut Vec<Node>, text: &str) {
    if text.is_empty() {
        return;
    }
    match out.last_mut() {
        Some(Node::Text(known)) => known.push_str(text),
        _ => out.push(Node::Text(text.to_owned())),
    }
}

/// The text without its style markers, for one-line previews (the list,
/// notifications) that show no styles: "*call* _today_" reads "call today".
/// Code keeps its backticks, so what it holds still reads as code; a quote
/// loses its `> `, and list items read "• item" or "1. item".
pub fn plain_text(text: &str) -> String {
    fn line_break(out: &mut String) {
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
    }
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
                Node::Quote(inner) => {
                    line_break(out);
                    flatten(inner, out);
                    out.push('\n');
                }
                Node::Bullets(items) => {
                    for item in items {
                        line_break(out);
                        out.push_str("• ");
                        flatten(item, out);
                    }
                    out.push('\n');
                }
                Node::Numbered(first, items) => {
                    for (number, item) in (first..).zip(items) {
                        line_break(out);
                        out.push_str(&format!("{number}. "));
                        flatten(item, out);
                    }
                    out.push('\n');
                }
            }
        }
    }
    let blocks = || text.split('\n').any(|line| Block::of(line).is_some());
    if !text.contains(['*', '_', '~']) && !blocks() {
        return text.to_owned();
    }
    let mut plain = String::with_capacity(text.len());
    flatten(markup(text, &[]), &mut plain);
    plain.truncate(plain.trim_end_matches('\n').len());
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
        push_text(out, &self.text[range]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Node::{Bullets, Code, CodeBlock, Link, Mention, Numbered, Quote, Styled, Text};
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
    fn lines_that_start_with_a_quote_mark_are_one_quote_with_its_line_breaks() {
        assert_eq!(
            shown("Ann wrote:\n> call *today*\n> before 5\nOn it"),
            vec![
                text("Ann wrote:"),
                Quote(vec![
                    text("call "),
                    styled(Bold, &[text("today")]),
                    text("\nbefore 5"),
                ]),
                text("On it"),
            ]
        );
    }

    #[test]
    fn bullet_and_numbered_lines_are_lists_of_items_with_their_markup() {
        assert_eq!(
            shown("Next steps:\n- call @Ann\n* send `quote.pdf`\n• *done*\n\nThanks"),
            vec![
                text("Next steps:"),
                Bullets(vec![
                    vec![text("call "), Mention("@Ann".into(), ANN)],
                    vec![text("send "), Code("quote.pdf".into())],
                    vec![styled(Bold, &[text("done")])],
                ]),
                text("\nThanks"),
            ]
        );
        assert_eq!(
            shown("3. qualify\n4) demo"),
            vec![Numbered(3, vec![vec![text("qualify")], vec![text("demo")]])],
            "numbered from the first item's number"
        );
    }

    #[test]
    fn a_line_of_another_kind_starts_another_block() {
        assert_eq!(
            shown("- a\n1. b\n> c"),
            vec![
                Bullets(vec![vec![text("a")]]),
                Numbered(1, vec![vec![text("b")]]),
                Quote(vec![text("c")]),
            ]
        );
    }

    #[test]
    fn block_markers_need_the_start_of_a_line_and_words_after_them() {
        for plain in [
            "-5 °C today",
            "3.5 hours",
            "> ",
            "- ",
            "1234. was a year",
            " - indented",
            "a > b\nc - d",
            ">no space",
            "2.x is out",
        ] {
            assert_eq!(shown(plain), vec![text(plain)], "{plain}");
        }
        assert_eq!(
            shown("```\n- in code\n> too\n```"),
            vec![CodeBlock("- in code\n> too".into())],
            "code lines are never blocks"
        );
    }

    #[test]
    fn previews_show_quotes_without_the_mark_and_items_with_a_bullet() {
        assert_eq!(
            plain_text("Ann wrote:\n> call _today_\nOn it"),
            "Ann wrote:\ncall today\nOn it"
        );
        assert_eq!(
            plain_text("Next:\n- call\n- send\n2. sign"),
            "Next:\n• call\n• send\n2. sign"
        );
        assert_eq!(plain_text("-5 °C"), "-5 °C");
    }

    #[test]
    fn shift_enter_on_an_item_starts_the_next_one_and_on_an_empty_one_ends_the_list() {
        let go_on = |text: &str| {
            continue_block(text, text.len()).map(|(typed, caret)| {
                assert_eq!(caret, typed.len(), "the caret is at the end");
                typed
            })
        };
        assert_eq!(go_on("Next:\n- call").as_deref(), Some("Next:\n- call\n- "));
        assert_eq!(go_on("• a").as_deref(), Some("• a\n• "));
        assert_eq!(go_on("> quoted").as_deref(), Some("> quoted\n> "));
        assert_eq!(go_on("9. sign").as_deref(), Some("9. sign\n10. "));
        assert_eq!(go_on("1) qualify").as_deref(), Some("1) qualify\n2) "));
        assert_eq!(
            go_on("- a\n- ").as_deref(),
            Some("- a\n"),
            "an empty item ends it"
        );
        for other in ["plain", "-5 °C", "```\n- in code", ""] {
            assert_eq!(go_on(other), None, "{other:?}");
        }
        assert_eq!(
            continue_block("- call\n- send", 6),
            Some(("- call\n- \n- send".to_owned(), 9)),
            "in the middle of the text"
        );
        assert_eq!(continue_block("- call", 1), None, "the caret in the marker");
    }

    #[test]
    fn a_name_in_code_mentions_nobody() {
        assert_eq!(shown("`@Ann`"), vec![Code("@Ann".into())]);
        assert!(mentions("`@Ann` and ```\n@Ann\n```", PEOPLE).is_empty());
        assert_eq!(mentions("`x` @Ann", PEOPLE).len(), 1);
    }
}
