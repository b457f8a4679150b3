use super::*;

const LIMIT: usize = 1 << 20;

#[test]
fn blank_lines_anywhere_are_found_with_their_line_breaks() {
    let text = "\na,b\n1,2\n\n  \r\n3,4\n\n\n";
    let layout = survey(text, b',', LIMIT);
    assert_eq!(layout.header, ["a", "b"]);
    assert_eq!(layout.blank_lines.len(), 5);
    assert_eq!(layout.without_blank_lines(text), "a,b\n1,2\n3,4\n");
    assert!(layout.short_rows.is_empty() && layout.long_rows.is_empty());
}

#[test]
fn a_text_without_blank_lines_is_not_copied() {
    let text = "a,b\n1,2\n3,4";
    let layout = survey(text, b',', LIMIT);
    assert!(matches!(layout.without_blank_lines(text), Cow::Borrowed(_)));
}

#[test]
fn rows_with_too_few_or_too_many_fields_are_named_by_their_data_row() {
    // Row indices count data rows only: the blank line is skipped.
    let text = "a,b,c\r\n1,2,3\r\n\r\n1,2\r\n1,2,3,4\r\n1,2,3";
    let layout = survey(text, b',', LIMIT);
    assert_eq!(layout.short_rows, [RowWidth { row: 1, fields: 2 }]);
    assert_eq!(layout.long_rows, [RowWidth { row: 2, fields: 4 }]);
}

#[test]
fn separators_and_line_breaks_inside_quotes_belong_to_the_field() {
    let text = "name,\"note, with comma\"\n\"x, y\",\"two\n\nlines\"\n\"he said \"\"hi\"\"\",z\n";
    let layout = survey(text, b',', LIMIT);
    assert_eq!(layout.header, ["name", "note, with comma"]);
    assert!(layout.blank_lines.is_empty(), "{layout:?}");
    assert!(layout.short_rows.is_empty() && layout.long_rows.is_empty());
}

#[test]
fn a_quoted_file_counts_fields_as_a_plain_one_does() {
    let text = "\"a\",\"b\"\n1\n1,2,3\n\n";
    let layout = survey(text, b',', LIMIT);
    assert_eq!(layout.short_rows, [RowWidth { row: 0, fields: 1 }]);
    assert_eq!(layout.long_rows, [RowWidth { row: 1, fields: 3 }]);
    assert_eq!(layout.blank_lines.len(), 1);
}

#[test]
fn a_repeated_header_name_is_found_with_both_positions() {
    let layout = survey("hour,minute,hour\n1,2,3\n", b',', LIMIT);
    assert_eq!(layout.repeated_name(), Some(("hour", 1, 3)));
    assert_eq!(survey("a;b\n1;2\n", b';', LIMIT).repeated_name(), None);
}

fn fault(text: &str) -> Option<(usize, QuoteFaultKind)> {
    survey(text, b',', LIMIT)
        .quote_fault
        .map(|fault| (fault.record, fault.kind))
}

#[test]
fn a_quote_open_at_the_end_names_the_record_that_opened_it() {
    assert_eq!(
        fault("a,b\n1,2\n3,\"4\n5,6\n"),
        Some((2, QuoteFaultKind::Unclosed))
    );
    assert_eq!(fault("a,\"b\n1,2\n"), Some((0, QuoteFaultKind::Unclosed)));
    assert_eq!(fault("a,b\n1,\"2\"\"\"\n"), None);
}

#[test]
fn a_quote_that_does_not_open_a_field_is_named_with_its_record_and_field() {
    // Inside an unquoted field, after a closing quote, or in front of a field's opening quote.
    for (text, record, field) in [
        ("h,w\n1,5'10\"\n", 1, 2),
        ("h,w\n1,2\n\"ab\"c,3\n", 2, 1),
        ("a, \"b\"\n", 0, 2),
        ("a,b\n1,\"x\"\r\"\n", 1, 2),
    ] {
        assert_eq!(
            fault(text),
            Some((record, QuoteFaultKind::Stray { field })),
            "{text:?}"
        );
    }
    // The quote counts of the fuzzer's input are even, so counting them alone finds nothing.
    assert_eq!(
        fault("a,b\n_\"x\"\",1\n,\"\n"),
        Some((1, QuoteFaultKind::Stray { field: 1 }))
    );
}

#[test]
fn closed_quotes_may_end_a_line_with_a_carriage_return() {
    let layout = survey("\"a\",\"b\"\r\n\"1\",\"2\"\r\n", b',', LIMIT);
    assert_eq!(layout.quote_fault, None);
    assert_eq!(layout.header, ["a", "b"]);
    assert!(layout.short_rows.is_empty() && layout.long_rows.is_empty());
}

#[test]
fn the_first_value_over_the_limit_is_named_with_its_record_and_field() {
    let text = "a,b,c\n1,22,\"3,3\"\n4,5555,6\n";
    assert_eq!(survey(text, b',', 5).oversized_value, None);
    assert_eq!(
        survey(text, b',', 4).oversized_value,
        Some(OversizedValue {
            record: 1,
            field: 3,
            bytes: 5
        })
    );
    assert_eq!(
        survey(text, b',', 1).oversized_value,
        Some(OversizedValue {
            record: 1,
            field: 2,
            bytes: 2
        })
    );
    // The last field of a record, a long line of short values, and the header.
    assert_eq!(
        survey("a,b\n1,22222\n", b',', 4).oversized_value,
        Some(OversizedValue {
            record: 1,
            field: 2,
            bytes: 5
        })
    );
    assert_eq!(survey("a,b,c,d\n1,2,3,4\n", b',', 2).oversized_value, None);
    assert_eq!(
        survey("abcdef,b\n1,2\n", b',', 4)
            .oversized_value
            .map(|v| v.record),
        Some(0)
    );
}
