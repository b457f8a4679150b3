use super::*;

#[test]
fn blank_lines_anywhere_are_found_with_their_line_breaks() {
    let text = "\na,b\n1,2\n\n  \r\n3,4\n\n\n";
    let layout = survey(text, b',');
    assert_eq!(layout.header, ["a", "b"]);
    assert_eq!(layout.blank_lines.len(), 5);
    assert_eq!(layout.without_blank_lines(text), "a,b\n1,2\n3,4\n");
    assert!(layout.short_rows.is_empty() && layout.long_rows.is_empty());
}

#[test]
fn a_text_without_blank_lines_is_not_copied() {
    let text = "a,b\n1,2\n3,4";
    let layout = survey(text, b',');
    assert!(matches!(layout.without_blank_lines(text), Cow::Borrowed(_)));
}

#[test]
fn rows_with_too_few_or_too_many_fields_are_named_by_their_data_row() {
    // Row indices count data rows only: the blank line is skipped.
    let text = "a,b,c\r\n1,2,3\r\n\r\n1,2\r\n1,2,3,4\r\n1,2,3";
    let layout = survey(text, b',');
    assert_eq!(layout.short_rows, [RowWidth { row: 1, fields: 2 }]);
    assert_eq!(layout.long_rows, [RowWidth { row: 2, fields: 4 }]);
}

#[test]
fn separators_and_line_breaks_inside_quotes_belong_to_the_field() {
    let text = "name,\"note, with comma\"\n\"x, y\",\"two\n\nlines\"\n\"he said \"\"hi\"\"\",z\n";
    let layout = survey(text, b',');
    assert_eq!(layout.header, ["name", "note, with comma"]);
    assert!(layout.blank_lines.is_empty(), "{layout:?}");
    assert!(layout.short_rows.is_empty() && layout.long_rows.is_empty());
}

#[test]
fn a_quoted_file_counts_fields_as_a_plain_one_does() {
    let text = "\"a\",\"b\"\n1\n1,2,3\n\n";
    let layout = survey(text, b',');
    assert_eq!(layout.short_rows, [RowWidth { row: 0, fields: 1 }]);
    assert_eq!(layout.long_rows, [RowWidth { row: 1, fields: 3 }]);
    assert_eq!(layout.blank_lines.len(), 1);
}

#[test]
fn a_repeated_header_name_is_found_with_both_positions() {
    let layout = survey("hour,minute,hour\n1,2,3\n", b',');
    assert_eq!(layout.repeated_name(), Some(("hour", 1, 3)));
    assert_eq!(survey("a;b\n1;2\n", b';').repeated_name(), None);
}

#[test]
fn a_quote_open_at_the_end_names_the_record_that_opened_it() {
    assert_eq!(
        survey("a,b\n1,2\n3,\"4\n5,6\n", b',').unclosed_quote,
        Some(2)
    );
    assert_eq!(survey("a,\"b\n1,2\n", b',').unclosed_quote, Some(0));
    assert_eq!(survey("a,b\n1,\"2\"\"\"\n", b',').unclosed_quote, None);
}
