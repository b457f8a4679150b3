use super::*;
use polars::prelude::*;

/// `footer` as the footer of a file: some page bytes, the footer, its length, `PAR1`.
fn file_with_footer(footer: &[u8]) -> Vec<u8> {
    let mut file = b"PAR1pages".to_vec();
    file.extend_from_slice(footer);
    file.extend_from_slice(&(footer.len() as u32).to_le_bytes());
    file.extend_from_slice(b"PAR1");
    file
}

#[test]
fn a_footer_written_by_polars_passes() {
    let mut frame = polars::df!(
        "id" => [1i64, 2, 3],
        "name" => ["a", "bb", "ccc"],
        "x" => [Some(1.5f64), None, Some(2.0)],
        "ok" => [true, false, true],
    )
    .unwrap();
    let mut bytes = Vec::new();
    ParquetWriter::new(&mut bytes).finish(&mut frame).unwrap();
    assert_eq!(check(&bytes), Ok(()));
}

#[test]
fn a_list_longer_than_the_bytes_after_it_is_corrupt() {
    // Field 1, a list (type 9) of i32 (5) whose length (15: given in full) is a billion.
    let footer = [0x19, 0xf5, 0x80, 0x94, 0xeb, 0xdc, 0x03, 0x00];
    assert_eq!(
        check(&file_with_footer(&footer)),
        Err(FooterFault::ListTooLong {
            declared: 1_000_000_000,
            left: 1
        })
    );
    // Three i32 entries fit.
    assert_eq!(
        check(&file_with_footer(&[0x19, 0x35, 0x02, 0x04, 0x06, 0x00])),
        Ok(())
    );
}

#[test]
fn strings_nesting_and_truncation_are_bounded() {
    // Field 1, a string (8) declaring 100 bytes with 2 left.
    assert_eq!(
        check(&file_with_footer(&[0x18, 0x64, b'a', 0x00])),
        Err(FooterFault::StringTooLong {
            declared: 100,
            left: 2
        })
    );
    // A struct in a struct in a struct… (field 1, type 12) without end.
    assert_eq!(
        check(&file_with_footer(&[0x1c; 100])),
        Err(FooterFault::TooDeep)
    );
    assert_eq!(
        check(&file_with_footer(&[0x15, 0x02])),
        Err(FooterFault::Truncated)
    );
    let mut beyond = file_with_footer(&[0x00]);
    let at = beyond.len() - 8;
    beyond[at..at + 4].copy_from_slice(&1000u32.to_le_bytes());
    assert_eq!(check(&beyond), Err(FooterFault::OutOfFile));
}
