use super::*;
use polars::prelude::*;

const LIMIT: u64 = 1 << 20;

/// `footer` as the footer of a file: some page bytes, the footer, its length, `PAR1`.
fn file_with_footer(footer: &[u8]) -> Vec<u8> {
    let mut file = b"PAR1pages".to_vec();
    file.extend_from_slice(footer);
    file.extend_from_slice(&(footer.len() as u32).to_le_bytes());
    file.extend_from_slice(b"PAR1");
    file
}

fn polars_file() -> Vec<u8> {
    let mut frame = polars::df!(
        "id" => [1i64, 2, 3],
        "name" => ["a", "bb", "a"],
        "x" => [Some(1.5f64), None, Some(2.0)],
        "ok" => [true, false, true],
    )
    .unwrap();
    let mut bytes = Vec::new();
    ParquetWriter::new(&mut bytes).finish(&mut frame).unwrap();
    bytes
}

#[test]
fn a_file_written_by_polars_passes_with_its_pages() {
    assert_eq!(check(&polars_file(), LIMIT), Ok(()));
}

#[test]
fn a_page_header_declaring_an_impossible_value_count_is_caught() {
    // The first page, after the leading `PAR1`, is the dictionary of "name": its header's field 7
    // (a struct, 0x4c) holds field 1 (an i32, 0x15), 3 values (zigzag 6).
    let mut file = polars_file();
    let (header, length) = Reader::new(&file[4..]).read_struct(PAGE_HEADER).unwrap();
    assert_eq!(header.field(7).and_then(|page| page.int(1)), Some(3));
    let at = 4 + file[4..4 + length]
        .windows(3)
        .position(|w| w == [0x4c, 0x15, 0x06])
        .expect("the dictionary page's value count");
    // -1 is zigzag 1: the same length, so the rest of the file stays in place.
    file[at + 2] = 0x01;
    assert_eq!(
        check(&file, LIMIT),
        Err(MetadataFault::Negative {
            what: "page value count",
            count: -1
        })
    );
}

#[test]
fn counts_below_zero_or_over_the_limit_are_faults() {
    assert_eq!(bounded("row count", Some(3), 10), Ok(3));
    assert_eq!(bounded("row count", None, 10), Ok(0));
    assert_eq!(
        bounded("page value count", Some(-1), 10),
        Err(MetadataFault::Negative {
            what: "page value count",
            count: -1
        })
    );
    assert!(matches!(
        bounded("row count", Some(11), 10),
        Err(MetadataFault::OverLimit { .. })
    ));
}

#[test]
fn a_row_group_over_the_limit_is_caught_from_the_footer() {
    // FileMetaData { 4: [RowGroup { 3: num_rows = 2^40 }] }: list of one struct.
    let rows = 1u64 << 40;
    let mut footer = vec![0x49, 0x1c, 0x36];
    let mut zigzag = rows << 1;
    while zigzag >= 0x80 {
        footer.push((zigzag as u8) | 0x80);
        zigzag >>= 7;
    }
    footer.extend_from_slice(&[zigzag as u8, 0x00, 0x00]);
    assert_eq!(
        check(&file_with_footer(&footer), LIMIT),
        Err(MetadataFault::OverLimit {
            what: "row count",
            count: 1 << 40
        })
    );
}

#[test]
fn a_list_longer_than_the_bytes_after_it_is_corrupt() {
    // Field 10 (unknown to Parquet), a list (type 9) of i32 (5) whose length (15: given in full)
    // is a billion.
    let footer = [0xa9, 0xf5, 0x80, 0x94, 0xeb, 0xdc, 0x03, 0x00];
    assert_eq!(
        check(&file_with_footer(&footer), LIMIT),
        Err(MetadataFault::ListTooLong {
            declared: 1_000_000_000,
            left: 1
        })
    );
    // Three i32 entries fit.
    assert_eq!(
        check(
            &file_with_footer(&[0xa9, 0x35, 0x02, 0x04, 0x06, 0x00]),
            LIMIT
        ),
        Ok(())
    );
}

#[test]
fn strings_nesting_truncation_and_bounds_are_checked() {
    // Field 6 (created_by), a string (8) declaring 100 bytes with 2 left.
    assert_eq!(
        check(&file_with_footer(&[0x68, 0x64, b'a', 0x00]), LIMIT),
        Err(MetadataFault::StringTooLong {
            declared: 100,
            left: 2
        })
    );
    // A struct in a struct in a struct… (field 10, then fields 1, type 12) without end.
    let mut nested = vec![0xac];
    nested.extend_from_slice(&[0x1c; 99]);
    assert_eq!(
        check(&file_with_footer(&nested), LIMIT),
        Err(MetadataFault::TooDeep)
    );
    assert_eq!(
        check(&file_with_footer(&[0x15, 0x02]), LIMIT),
        Err(MetadataFault::Truncated)
    );
    let mut beyond = file_with_footer(&[0x00]);
    let at = beyond.len() - 8;
    beyond[at..at + 4].copy_from_slice(&1000u32.to_le_bytes());
    assert_eq!(check(&beyond, LIMIT), Err(MetadataFault::FooterOutOfFile));
}

#[test]
fn a_known_field_declared_with_another_type_is_refused() {
    // polars reads FileMetaData field 4 as the list of row groups whatever the file declares;
    // declared as a struct (0x4c), the checks would skip what polars then reads as row groups.
    assert_eq!(
        check(&file_with_footer(&[0x4c, 0x00, 0x00]), LIMIT),
        Err(MetadataFault::WrongType {
            field: "FileMetaData.row_groups"
        })
    );
    // A list of row groups whose entries are declared as i32 (0x15).
    assert_eq!(
        check(&file_with_footer(&[0x49, 0x15, 0x02, 0x00]), LIMIT),
        Err(MetadataFault::WrongType {
            field: "FileMetaData.row_groups"
        })
    );
    // An empty list reads the same whatever its entries' type.
    assert_eq!(check(&file_with_footer(&[0x49, 0x05, 0x00]), LIMIT), Ok(()));
}

#[test]
fn a_known_field_given_twice_is_refused() {
    // num_rows (field 3, i64) by delta, then again by its full id (0x06: type 6, id zigzag 3).
    assert_eq!(
        check(
            &file_with_footer(&[0x36, 0x02, 0x06, 0x06, 0x04, 0x00]),
            LIMIT
        ),
        Err(MetadataFault::Repeated {
            field: "FileMetaData.num_rows"
        })
    );
}

#[test]
fn a_list_of_booleans_is_refused() {
    // polars' two readers skip a boolean entry differently; Parquet's metadata has none.
    assert_eq!(
        check(&file_with_footer(&[0xa9, 0x21, 0x01, 0x01, 0x00]), LIMIT),
        Err(MetadataFault::BooleanList)
    );
}

#[test]
fn an_i32_keeps_its_low_32_bits_as_polars_does() {
    // A dictionary page header (field 7) whose value count (field 1, i32) is 2^32 + 3.
    let mut header = vec![0x7c, 0x15];
    let mut zigzag = ((1u64 << 32) + 3) << 1;
    while zigzag >= 0x80 {
        header.push((zigzag as u8) | 0x80);
        zigzag >>= 7;
    }
    header.extend_from_slice(&[zigzag as u8, 0x00, 0x00]);
    let (page, length) = Reader::new(&header).read_struct(PAGE_HEADER).unwrap();
    assert_eq!(page.field(7).and_then(|kind| kind.int(1)), Some(3));
    assert_eq!(length, header.len());
}
