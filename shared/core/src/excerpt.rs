//! Values from outside quoted back in reports, manifests and warnings: a few hundred characters at
//! most, marked where cut. A 200 MB cell must not make a 200 MB report, nor a 1 MB category a 1 MB
//! prediction warning.

use std::borrow::Cow;

/// The most characters of one value a report or a warning shows.
pub const MAX_SHOWN_CHARS: usize = 200;

/// `text` whole when it has at most [`MAX_SHOWN_CHARS`] characters; otherwise its start, then a
/// mark saying how long it was.
pub fn excerpt(text: &str) -> Cow<'_, str> {
    cut(text, MAX_SHOWN_CHARS)
}

/// `text` cut after `max` characters, the cut marked with the whole length.
pub fn cut(text: &str, max: usize) -> Cow<'_, str> {
    match text.char_indices().nth(max) {
        None => Cow::Borrowed(text),
        Some((at, _)) => Cow::Owned(format!(
            "{}… [cut: {} characters in all]",
            &text[..at],
            text.chars().count()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_values_are_shown_whole() {
        assert_eq!(excerpt("UA"), "UA");
        let exactly = "é".repeat(MAX_SHOWN_CHARS);
        assert_eq!(excerpt(&exactly), exactly.as_str());
    }

    #[test]
    fn long_values_are_cut_at_a_character_boundary_and_marked() {
        let long = "é".repeat(1_000_000);
        let shown = excerpt(&long);
        assert!(shown.starts_with(&"é".repeat(MAX_SHOWN_CHARS)));
        assert!(
            shown.ends_with("… [cut: 1000000 characters in all]"),
            "{shown}"
        );
        assert!(shown.len() < 500);
    }
}
