use super::*;

const MINIMAL: &str = r#"
    [dataset]
    name = "trips"
    version = 1

    [[columns]]
    name = "distance"
    type = "float"
    min = 0
"#;

#[test]
fn reads_a_minimal_spec_with_defaults() {
    let loaded = DatasetSpec::parse(MINIMAL, "toml").unwrap();
    let spec = loaded.spec;
    assert_eq!(spec.dataset.name.as_str(), "trips");
    assert_eq!(spec.source.delimiter, ',');
    assert_eq!(spec.policy.extra_columns, ExtraColumns::Reject);
    let col = &spec.columns[0];
    assert!(col.required && !col.nullable);
    assert_eq!(col.mostly, 1.0);
    assert_eq!(loaded.sha256.len(), 64);
}

#[test]
fn unknown_keys_are_syntax_errors_that_name_the_key() {
    let err = DatasetSpec::parse(&format!("{MINIMAL}\nmaxx = 3\n"), "toml").unwrap_err();
    assert!(err.to_string().contains("maxx"), "{err}");
}

#[test]
fn reports_every_semantic_problem_with_its_path() {
    let text = r#"
        [dataset]
        name = "trips"
        version = 1

        [[columns]]
        name = "distance"
        type = "string"
        min = 5
        regex = "(["

        [[columns]]
        name = "distance"
        type = "integer"
        min = 9
        max = 1

        [table]
        unique_keys = [["nope"]]
        rules = [{ name = "r", check = "distance >= speed" }]

        [target]
        column = "late"
        kind = "binary"

        [features]
        columns = ["distance"]
        leakage = ["distance"]

        [split]
        strategy = "time"
        train = 0.7
        validation = 0.2
        test = 0.2
    "#;
    let Err(SpecError::Invalid(problems)) = DatasetSpec::parse(text, "toml") else {
        panic!("expected semantic problems");
    };
    let paths: Vec<_> = problems.iter().map(|p| p.path.as_str()).collect();
    for expected in [
        "columns[0] (distance).min",
        "columns[0] (distance).regex",
        "columns[1].name",
        "columns[1] (distance).min",
        "table.unique_keys[0]",
        "table.rules[0] (r).check",
        "target.column",
        "target.positive",
        "features.columns",
        "split",
        "split.time_column",
    ] {
        assert!(
            paths.contains(&expected),
            "missing {expected} in {paths:#?}"
        );
    }
}

#[test]
fn json_specs_are_read_too() {
    let json = r#"{"dataset": {"name": "trips", "version": 2},
                   "columns": [{"name": "n", "type": "integer", "allowed": [1, 2]}]}"#;
    let spec = DatasetSpec::parse(json, "json").unwrap().spec;
    assert_eq!(
        spec.columns[0].allowed,
        Some(vec![AllowedValue::Integer(1), AllowedValue::Integer(2)])
    );
}

#[test]
fn a_serving_key_is_a_text_or_integer_column_beside_the_features() {
    let spec = |key: &str| {
        format!(
            r#"
            [dataset]
            name = "trips"
            version = 1

            [[columns]]
            name = "trip_id"
            type = "string"

            [[columns]]
            name = "distance"
            type = "float"

            [[columns]]
            name = "booked"
            type = "boolean"

            [[columns]]
            name = "late"
            type = "integer"

            [target]
            column = "late"
            kind = "binary"
            positive = 1

            [features]
            columns = ["distance"]

            [serving]
            key = "{key}"
            "#
        )
    };
    assert!(DatasetSpec::parse(&spec("trip_id"), "toml").is_ok());
    for (key, says) in [
        ("nope", "unknown column \"nope\""),
        (
            "booked",
            "\"booked\" is boolean; a key is a string, categorical or integer column",
        ),
        ("distance", "\"distance\" is a feature"),
        ("late", "\"late\" is the target"),
    ] {
        let Err(SpecError::Invalid(problems)) = DatasetSpec::parse(&spec(key), "toml") else {
            panic!("{key} should be refused");
        };
        assert!(
            problems
                .iter()
                .any(|p| p.path == "serving.key" && p.message.starts_with(says)),
            "{key}: {problems:?}"
        );
    }
}

#[test]
fn free_text_columns_take_a_length_and_their_feature_options_are_checked() {
    let text = r#"
        [dataset]
        name = "reviews"
        version = 1

        [[columns]]
        name = "review"
        type = "text"
        max_length = 5000

        [[columns]]
        name = "score"
        type = "string"
        allowed = ["great", "other"]

        [[columns]]
        name = "helpful"
        type = "integer"
        max_length = 3

        [target]
        column = "score"
        kind = "binary"
        positive = "great"

        [features]
        columns = ["review"]
    "#;
    let Err(SpecError::Invalid(problems)) = DatasetSpec::parse(text, "toml") else {
        panic!("expected semantic problems");
    };
    let found: Vec<(&str, &str)> = problems
        .iter()
        .map(|p| (p.path.as_str(), p.message.as_str()))
        .collect();
    assert!(
        found.contains(&(
            "columns[2] (helpful).max_length",
            "max_length applies to string, categorical and text columns, not integer"
        )),
        "{found:#?}"
    );
    assert!(
        !found.iter().any(|(path, _)| path.starts_with("features")),
        "free text is a feature: {found:#?}"
    );
    assert!(
        !found.iter().any(|(path, _)| path.starts_with("columns[0]")),
        "a text column with a length is valid: {found:#?}"
    );
    let keyed = text.replace("columns = [\"review\"]", "columns = [\"helpful\"]");
    let keyed = format!("{keyed}\n[serving]\nkey = \"review\"\n");
    let Err(SpecError::Invalid(problems)) = DatasetSpec::parse(&keyed, "toml") else {
        panic!("expected semantic problems");
    };
    assert!(
        problems.iter().any(|p| p.path.starts_with("serving.key")),
        "free text names no record: {problems:?}"
    );

    let valid = text.replace("max_length = 3\n", "");
    let Ok(loaded) = DatasetSpec::parse(&valid, "toml") else {
        panic!("a text feature without options is valid");
    };
    let features = loaded.spec.features.expect("features");
    assert_eq!(
        features.text["review"],
        TextOptions::default(),
        "defaults filled in"
    );

    let wrong = format!(
        "{valid}\n[features.text.review]\nngrams = [2, 1]\nmin_df = 0.0\nhash_buckets = 64\nmax_features = 10\n\n[features.text.score]\n\n[training]\ncandidates = [{{ model = \"gradient_boosting\" }}]\n"
    );
    let Err(SpecError::Invalid(problems)) = DatasetSpec::parse(&wrong, "toml") else {
        panic!("expected semantic problems");
    };
    let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
    for path in [
        "features.text.review.ngrams",
        "features.text.review.min_df",
        "features.text.review.hash_buckets",
        "features.text.score",
        "training.candidates[0].model",
    ] {
        assert!(paths.contains(&path), "{path} not in {problems:#?}");
    }
    let misspelt = format!("{valid}\n[features.text.review]\nngram = [1, 2]\n");
    assert!(
        matches!(
            DatasetSpec::parse(&misspelt, "toml"),
            Err(SpecError::Syntax { .. })
        ),
        "an unknown option is refused"
    );
}

#[test]
fn a_target_map_must_make_the_positive_and_merged_classes() {
    let text = r#"
        [dataset]
        name = "loans"
        version = 1

        [[columns]]
        name = "loan_status"
        type = "string"

        [[columns]]
        name = "amount"
        type = "float"

        [target]
        column = "loan_status"
        kind = "binary"
        positive = "Charged Off"
        map = { "Charged Off" = "bad", "Current" = "good" }
        rare_classes = { merge_into = "other" }
        min_class_rows = 0

        [features]
        columns = ["amount"]
    "#;
    let Err(SpecError::Invalid(problems)) = DatasetSpec::parse(text, "toml") else {
        panic!("expected semantic problems");
    };
    let found: Vec<(&str, &str)> = problems
        .iter()
        .map(|p| (p.path.as_str(), p.message.as_str()))
        .collect();
    assert!(
        found.contains(&(
            "target.positive",
            "\"Charged Off\" is not a class target.map makes (bad, good)"
        )),
        "{found:#?}"
    );
    assert!(
        found
            .iter()
            .any(|(path, message)| *path == "target.rare_classes" && message.contains("\"other\"")),
        "{found:#?}"
    );
    assert!(found
        .iter()
        .any(|(path, _)| *path == "target.min_class_rows"));
    let fixed = text
        .replace("positive = \"Charged Off\"", "positive = \"bad\"")
        .replace("merge_into = \"other\"", "merge_into = \"good\"")
        .replace("min_class_rows = 0", "min_class_rows = 12");
    let spec = DatasetSpec::parse(&fixed, "toml").expect("valid").spec;
    let target = spec.target.expect("a target");
    assert_eq!(target.rare_classes, RareClasses::MergeInto("good".into()));
    assert_eq!(target.map["Current"], "good");
    let dropped = fixed.replace("{ merge_into = \"good\" }", "\"drop\"");
    let spec = DatasetSpec::parse(&dropped, "toml").expect("valid").spec;
    assert_eq!(spec.target.map(|t| t.rare_classes), Some(RareClasses::Drop));
}

#[test]
fn declared_boolean_words_must_mean_one_thing_on_a_boolean_column() {
    let spec = |columns: &str| {
        DatasetSpec::parse(
            &format!("[dataset]\nname = \"trips\"\nversion = 1\n{columns}"),
            "toml",
        )
    };
    let good = spec(
        "[[columns]]\nname = \"active\"\ntype = \"boolean\"\ntrue_values = [\"Active\", \"yes\"]\nfalse_values = [\"Inactive\"]",
    )
    .unwrap()
    .spec;
    assert_eq!(good.columns[0].boolean_words().read(" ACTIVE "), Some(true));

    let Err(SpecError::Invalid(problems)) = spec(
        "[[columns]]\nname = \"active\"\ntype = \"boolean\"\ntrue_values = [\"no\", \" \", \"Active\"]\nfalse_values = [\"active\"]\n\n[[columns]]\nname = \"status\"\ntype = \"string\"\nfalse_values = [\"off\"]",
    ) else {
        panic!("the words are checked");
    };
    let messages: Vec<String> = problems
        .iter()
        .map(|p| format!("{}: {}", p.path, p.message))
        .collect();
    assert_eq!(
        messages,
        [
            "columns[0] (active).true_values: \"no\" already means false in every boolean column",
            "columns[0] (active).true_values: a word must not be blank",
            "columns[0] (active).false_values: \"active\" is also in true_values: a word means one thing",
            "columns[1] (status).true_values: true_values/false_values apply to boolean columns, not string",
        ]
    );
}
