//! Every environment variable a function reads is declared for it in template.yaml: SAM passes a
//! function only the variables its template declares (`sam local invoke --env-vars` included),
//! so a setting the code reads but the template leaves out cannot be set at all.

use std::cell::RefCell;
use std::collections::BTreeSet;

use mlops_shared::config::{AwsTargets, ConfigError, Env};
use mlops_shared::predict::ServingSettings;

thread_local! {
    /// What [`recorded`] was asked for, and the variables it gives a placeholder.
    static ASKED: RefCell<BTreeSet<String>> = const { RefCell::new(BTreeSet::new()) };
    static REQUIRED: RefCell<Vec<&'static str>> = const { RefCell::new(Vec::new()) };
}

/// A lookup that notes every name asked for and knows only the required ones.
fn recorded(name: &str) -> Option<String> {
    ASKED.with_borrow_mut(|asked| asked.insert(name.to_owned()));
    REQUIRED.with_borrow(|required| required.contains(&name).then(|| "placeholder".to_owned()))
}

/// The variables a configuration reader asks for. It runs on an environment where nothing is
/// set; each variable it insists on is given a placeholder and the reader runs again, until it
/// reads to the end.
fn read_by<T>(
    reader: impl Fn(&Env<fn(&str) -> Option<String>>) -> Result<T, ConfigError>,
) -> BTreeSet<String> {
    ASKED.with_borrow_mut(BTreeSet::clear);
    REQUIRED.with_borrow_mut(Vec::clear);
    loop {
        match reader(&Env(recorded)) {
            Ok(_) => return ASKED.with_borrow_mut(std::mem::take),
            Err(ConfigError::Missing(name)) if REQUIRED.with_borrow(|r| !r.contains(&name)) => {
                REQUIRED.with_borrow_mut(|required| required.push(name))
            }
            Err(other) => panic!("the reader refused its placeholders: {other}"),
        }
    }
}

/// What each function's `main` reads: its configuration readers' variables, and the endpoint
/// every AWS client honours (`mlops_aws::endpoint`).
fn reads(function: &str) -> BTreeSet<String> {
    let mut names = match function {
        "IngestFunction" => read_by(ingest::Config::from_env),
        "PredictFunction" => {
            let mut names = read_by(AwsTargets::from_env);
            names.extend(read_by(ServingSettings::from_env));
            names
        }
        "TrainFunction" | "PromoteFunction" | "AdminApiFunction" | "DriftFunction" => {
            read_by(AwsTargets::from_env)
        }
        other => panic!("no such function: {other}"),
    };
    names.insert(mlops_aws::endpoint::ENDPOINT_URL.to_owned());
    names.insert("RUST_LOG".to_owned());
    names
}

/// The variables template.yaml declares for a resource, with those of `Globals: Function:`. Read
/// as text, as the route check reads the template: CloudFormation's tags are not plain YAML,
/// and each `Variables:` block is a list of `NAME: value` lines indented under it.
fn declared(template: &str, resource: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for section in ["Function", resource] {
        let lines: Vec<&str> = template.lines().collect();
        let start = lines
            .iter()
            .position(|line| *line == format!("  {section}:"))
            .unwrap_or_else(|| panic!("template.yaml has no {section}"));
        let end = lines[start + 1..]
            .iter()
            .position(|line| line.starts_with("  ") && !line.starts_with("   "))
            .map_or(lines.len(), |n| start + 1 + n);
        let block = &lines[start..end];
        let Some(at) = block.iter().position(|line| line.trim() == "Variables:") else {
            continue;
        };
        let indent = |line: &str| line.len() - line.trim_start().len();
        let own = indent(block[at]);
        for line in &block[at + 1..] {
            if line.trim().is_empty() || line.trim_start().starts_with('#') {
                continue;
            }
            if indent(line) <= own {
                break;
            }
            if let Some((name, _)) = line.trim().split_once(':') {
                names.insert(name.to_owned());
            }
        }
    }
    names
}

#[test]
fn every_variable_a_function_reads_is_declared_for_it_in_the_template() {
    let template = String::from_utf8(mlops_tests::repo_file("template.yaml")).expect("UTF-8");
    let missing: Vec<String> = [
        "IngestFunction",
        "TrainFunction",
        "PromoteFunction",
        "PredictFunction",
        "AdminApiFunction",
        "DriftFunction",
    ]
    .into_iter()
    .filter_map(|function| {
        let declared = declared(&template, function);
        let missing: Vec<String> = reads(function).difference(&declared).cloned().collect();
        (!missing.is_empty()).then(|| format!("{function} reads {missing:?}"))
    })
    .collect();
    assert!(
        missing.is_empty(),
        "template.yaml does not declare what the functions read: {missing:#?}"
    );
}

#[test]
fn the_checks_see_what_they_should() {
    let names = read_by(ServingSettings::from_env);
    assert!(names.contains("INFERENCE_BATCH_RECORDS"), "{names:?}");
    let required = read_by(AwsTargets::from_env);
    assert_eq!(
        required,
        ["BUCKET", "EVENT_BUS", "REGISTRY_TABLE"]
            .map(String::from)
            .into()
    );
    let template = "Globals:\n  Function:\n    Environment:\n      Variables:\n        RUST_LOG: info\n\
                    Resources:\n  OneFunction:\n    Properties:\n      Environment:\n        Variables:\n          \
                    # why\n          BUCKET: b\n      Events: {}\n  Other:\n    Variables:\n      NOT_MINE: x\n";
    assert_eq!(
        declared(template, "OneFunction"),
        ["BUCKET", "RUST_LOG"].map(String::from).into()
    );
}

#[test]
fn the_local_env_file_sets_only_declared_variables_and_the_sample_events_bucket() {
    let template = String::from_utf8(mlops_tests::repo_file("template.yaml")).expect("UTF-8");
    let file: serde_json::Value =
        serde_json::from_slice(&mlops_tests::repo_file("events/env.local.json")).expect("JSON");
    let set = file["Parameters"].as_object().expect("Parameters");
    for name in set.keys() {
        assert!(
            ["IngestFunction", "PredictFunction", "DriftFunction"]
                .iter()
                .any(|function| declared(&template, function).contains(name)),
            "events/env.local.json sets {name}, which no function declares: SAM would drop it"
        );
    }
    let event: serde_json::Value =
        serde_json::from_slice(&mlops_tests::repo_file("events/s3-put-flights.json"))
            .expect("JSON");
    assert_eq!(
        set["BUCKET"], event["Records"][0]["s3"]["bucket"]["name"],
        "the ingest function refuses an event from another bucket than its own"
    );
}
