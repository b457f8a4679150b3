use super::*;

#[test]
fn parses_column_against_constant_and_column_against_column() {
    let rule = parse("sched_arr_time >= 0").unwrap();
    assert_eq!(rule.left, Operand::Column("sched_arr_time".into()));
    assert_eq!(rule.op, CompareOp::Ge);
    assert_eq!(rule.right, Operand::Number(0.0));
    let rule = parse("a<=b").unwrap();
    assert_eq!(rule.columns(), vec!["a", "b"]);
    assert_eq!(rule.op, CompareOp::Le);
    assert_eq!(parse("x != -1.5").unwrap().right, Operand::Number(-1.5));
}

#[test]
fn explains_malformed_rules() {
    assert!(parse("a b").unwrap_err().contains("no comparison operator"));
    assert!(parse(">= 3").unwrap_err().contains("missing an operand"));
    assert!(parse("1 < 2").unwrap_err().contains("two constants"));
    assert!(parse("a-b < 2")
        .unwrap_err()
        .contains("neither a column name nor a number"));
}
