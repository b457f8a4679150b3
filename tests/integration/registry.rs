//! The model registry and promotion, on the embedded default and on moto alike: the policy's
//! decisions end to end (a better model replaces the champion, a worse one is refused with its
//! failing gate, rollback restores the previous champion, history shows all of it), optimistic
//! concurrency, all-or-nothing transitions, idempotent replays, and every bad request refused
//! with nothing written.

use futures::future::join_all;
use mlops_local::EventLog;
use mlops_shared::model_registry::{
    self, Action, Annotation, ModelStatus, StatusChange, Transition, TransitionError,
};
use mlops_shared::names::{Alias, ModelName};
use mlops_shared::ports::Backends;
use mlops_shared::promotion::{Command, Outcome, PromoteError, Promoter, Request};
use mlops_tests::{
    aws_backends, ingest, install_spec, key, local_backends, model_name, on_both_stores, train,
};

/// A binary target whose rule changes between periods: early on only `x1` matters, later `x2`
/// matters most. A model trained on the early period alone misses `x2`.
pub(crate) const SPEC: &str = r#"
[dataset]
name = "routes"
version = 1

[[columns]]
name = "at"
type = "datetime"

[[columns]]
name = "x1"
type = "float"

[[columns]]
name = "x2"
type = "float"

[[columns]]
name = "region"
type = "categorical"

[[columns]]
name = "late"
type = "integer"
allowed = [0, 1]

[target]
column = "late"
kind = "binary"
positive = 1

[features]
columns = ["x1", "x2", "region"]

[split]
strategy = "time"
time_column = "at"
train = 0.6
validation = 0.2
test = 0.2

[training]
seed = 1
[[training.candidates]]
model = "logistic_regression"

[promotion]
primary_metric = "roc_auc"
min_primary = 0.55
min_improvement = 0.01
slices = ["region"]
max_slice_regression = 0.05
"#;

/// `rows` rows starting on day `first_day` of 2026; `late` follows `x1` alone (early) or mostly
/// `x2` (late), with noise from a fixed-seed generator.
pub(crate) fn period_csv(first_day: u32, rows: usize, x2_matters: bool, seed: u64) -> Vec<u8> {
    let mut state = seed;
    let mut uniform = move || {
        // xorshift64*: deterministic, good enough for test data.
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        (state.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut out = String::from("at,x1,x2,region,late\n");
    for i in 0..rows {
        let day = first_day + (i / 48) as u32;
        let (month, day_of_month) = (1 + (day - 1) / 28, 1 + (day - 1) % 28);
        let (hour, minute) = ((i % 48) / 2, (i % 2) * 30);
        let x1 = uniform() * 4.0 - 2.0;
        let x2 = uniform() * 4.0 - 2.0;
        let region = ["north", "south", "east"][i % 3];
        let noise = uniform() * 2.0 - 1.0;
        let signal = if x2_matters { 0.3 * x1 + 2.0 * x2 } else { x1 };
        let late = u8::from(signal + noise > 0.0);
        out.push_str(&format!(
            "2026-{month:02}-{day_of_month:02}T{hour:02}:{minute:02}:00Z,{x1:.4},{x2:.4},{region},{late}\n"
        ));
    }
    out.into_bytes()
}

pub(crate) fn routes() -> ModelName {
    model_name("routes")
}

pub(crate) fn request(operation: &str) -> Request {
    Request::new(operation, "test", Some(format!("test {operation}"))).expect("valid operation")
}

/// Ingests one more period under `file` and trains the next version on everything so far.
pub(crate) async fn train_with(backends: &Backends, file: &str, csv: Vec<u8>, version: u64) {
    ingest(backends, SPEC, vec![(file.into(), csv)]).await;
    let outcome = train(backends, "routes").await.expect("trains");
    assert_eq!(outcome.record.version, version);
}

/// Version 1, trained on the early period.
pub(crate) async fn first_version(backends: &Backends) {
    train_with(backends, "early.csv", period_csv(1, 2400, false, 7), 1).await;
}

/// Version 2, trained on the early and the late period.
pub(crate) async fn second_version(backends: &Backends) {
    train_with(backends, "late.csv", period_csv(51, 2400, true, 11), 2).await;
}

pub(crate) async fn status(backends: &Backends, version: u64) -> ModelStatus {
    model_registry::get_version(backends.registry.as_ref(), &routes(), version)
        .await
        .expect("reads")
        .expect("exists")
        .status
}

pub(crate) async fn champion(backends: &Backends) -> Option<u64> {
    model_registry::get_model(backends.registry.as_ref(), &routes())
        .await
        .expect("reads")
        .expect("exists")
        .champion()
}

async fn the_policy_promotes_the_better_refuses_the_worse_and_rollback_restores(
    backends: Backends,
) {
    let promoter = Promoter::new(&backends);
    first_version(&backends).await;
    let first = promoter
        .execute(
            &Command::Decide {
                model: routes(),
                version: 1,
            },
            &request("event-1"),
        )
        .await
        .expect("decides");
    assert_eq!((first.action, first.applied), (Some(Action::Promote), true));
    let decision = first.decision.expect("a decision");
    assert!(
        decision.champion.is_none(),
        "the first model has nothing to beat"
    );
    let names: Vec<&str> = decision.gates.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(names, ["primary_metric", "data_validation"]);
    assert_eq!(champion(&backends).await, Some(1));

    // Version 2 learned the new rule: better than version 1 on version 2's own test rows.
    second_version(&backends).await;
    let second = promoter
        .execute(
            &Command::Decide {
                model: routes(),
                version: 2,
            },
            &request("event-2"),
        )
        .await
        .expect("decides");
    assert_eq!(second.action, Some(Action::Promote), "{}", second.message);
    let decision = second.decision.expect("a decision");
    assert_eq!(decision.champion, Some(1));
    let improvement = decision
        .gates
        .iter()
        .find(|g| g.name == "improvement")
        .expect("compared with the champion");
    assert!(
        improvement.passed && improvement.value > Some(0.05),
        "{improvement:?}"
    );
    assert!(decision.gates.iter().any(|g| g.name == "slice:region"));
    // Both were scored on the same rows: the candidate's test part as training evaluated it.
    let trained = model_registry::get_version(backends.registry.as_ref(), &routes(), 2)
        .await
        .expect("reads")
        .expect("exists");
    assert_eq!(
        decision.candidate_score,
        trained.metrics.get("roc_auc").copied()
    );
    assert_eq!(
        (status(&backends, 1).await, status(&backends, 2).await),
        (ModelStatus::Archived, ModelStatus::Champion)
    );

    // A worse model: the spec drops the informative features; the same data, a new fingerprint.
    let weak = SPEC.replace(
        r#"columns = ["x1", "x2", "region"]"#,
        r#"columns = ["region"]"#,
    );
    install_spec(&backends, &weak).await;
    let third = train(&backends, "routes").await.expect("trains");
    assert_eq!(third.record.version, 3);
    let refused = promoter
        .execute(
            &Command::Decide {
                model: routes(),
                version: 3,
            },
            &request("event-3"),
        )
        .await
        .expect("decides");
    assert_eq!(refused.action, Some(Action::Refuse));
    let decision = refused.decision.expect("a decision");
    let failed: Vec<&str> = decision
        .failed_gates()
        .iter()
        .map(|g| g.name.as_str())
        .collect();
    assert!(failed.contains(&"improvement"), "{failed:?}");
    assert!(
        refused.message.contains("improvement"),
        "{}",
        refused.message
    );
    assert_eq!(status(&backends, 3).await, ModelStatus::Rejected);
    assert_eq!(champion(&backends).await, Some(2));
    // The decision is kept on the version too.
    let stored = model_registry::get_version(backends.registry.as_ref(), &routes(), 3)
        .await
        .expect("reads")
        .expect("exists");
    assert_eq!(stored.decision.as_ref(), Some(&decision));

    let rolled = promoter
        .execute(
            &Command::Rollback { model: routes() },
            &request("rollback-1"),
        )
        .await
        .expect("rolls back");
    assert_eq!(
        (rolled.action, rolled.champion),
        (Some(Action::Rollback), Some(1))
    );
    assert_eq!(
        (status(&backends, 1).await, status(&backends, 2).await),
        (ModelStatus::Champion, ModelStatus::Archived)
    );

    let history = model_registry::history(backends.registry.as_ref(), &routes())
        .await
        .expect("reads");
    let trail: Vec<(u64, Action, u64, Option<u64>)> = history
        .iter()
        .map(|e| (e.revision, e.action, e.version, e.champion))
        .collect();
    assert_eq!(
        trail,
        [
            (1, Action::Promote, 1, Some(1)),
            (2, Action::Promote, 2, Some(2)),
            (3, Action::Refuse, 3, Some(2)),
            (4, Action::Rollback, 1, Some(1)),
        ]
    );
    assert_eq!(history[1].from_version, Some(1));
    assert_eq!(history[3].from_version, Some(2));
    // "Who was champion at T": at each entry's time, the champion it left (or, for entries made in
    // the same millisecond, the champion the last of them left).
    for (i, entry) in history.iter().enumerate() {
        let last_then = history[i..]
            .iter()
            .take_while(|e| e.at == entry.at)
            .last()
            .unwrap_or(entry);
        assert_eq!(
            model_registry::champion_at(&history, entry.at),
            last_then.champion
        );
    }
    assert_eq!(
        model_registry::champion_at(&history, "2000-01-01T00:00:00Z".parse().unwrap()),
        None
    );
    // Replaying the trail's alias moves rebuilds the champion history the model item holds.
    let mut champions: Vec<u64> = Vec::new();
    for entry in history
        .iter()
        .filter(|e| e.alias.as_deref() == Some("champion"))
    {
        assert_eq!(champions.last().copied(), entry.from_version, "{entry:?}");
        match entry.action {
            Action::Rollback => {
                champions.pop();
            }
            _ => champions.extend(entry.to_version),
        }
        assert_eq!(champions.last().copied(), entry.to_version);
    }
    let state = model_registry::get_model(backends.registry.as_ref(), &routes())
        .await
        .expect("reads")
        .expect("exists");
    assert_eq!(champions, state.champions);

    // With nothing before version 1, there is no further rollback.
    let err = promoter
        .execute(
            &Command::Rollback { model: routes() },
            &request("rollback-2"),
        )
        .await
        .expect_err("nothing to return to");
    assert!(matches!(err, PromoteError::NoPreviousChampion(_)), "{err}");
}

#[tokio::test]
async fn the_policy_promotes_the_better_refuses_the_worse_and_rollback_restores_on_the_embedded_default(
) {
    let (backends, dir) = local_backends();
    the_policy_promotes_the_better_refuses_the_worse_and_rollback_restores(backends).await;
    let events = EventLog::new(dir.path().join("events.jsonl"))
        .read()
        .expect("events");
    let kinds: Vec<&str> = events.iter().map(|e| e.detail_type.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "ModelTrained",
            "ModelPromoted",
            "ModelTrained",
            "ModelPromoted",
            "ModelTrained",
            "ModelRolledBack"
        ]
    );
}

#[tokio::test]
async fn the_policy_promotes_the_better_refuses_the_worse_and_rollback_restores_on_dynamodb() {
    let aws = aws_backends().await;
    the_policy_promotes_the_better_refuses_the_worse_and_rollback_restores(aws.backends.clone())
        .await;
    let received = aws.received_events().await;
    let promoted: Vec<u64> = received
        .iter()
        .filter(|e| e["detail-type"] == "ModelPromoted")
        .filter_map(|e| e["detail"]["version"].as_u64())
        .collect();
    assert_eq!(promoted, [1, 2]);
    assert!(received
        .iter()
        .any(|e| e["detail-type"] == "ModelRolledBack" && e["detail"]["version"] == 1));
}

/// The same event twice, or a retried request, changes nothing the second time.
async fn replays_are_no_ops(backends: Backends) {
    let promoter = Promoter::new(&backends);
    first_version(&backends).await;
    let first = promoter
        .execute(
            &Command::Decide {
                model: routes(),
                version: 1,
            },
            &request("event-1"),
        )
        .await
        .expect("decides");
    assert!(first.applied);
    let again = promoter
        .execute(
            &Command::Decide {
                model: routes(),
                version: 1,
            },
            &request("event-1"),
        )
        .await
        .expect("replay");
    assert!(!again.applied);
    assert_eq!(
        (again.revision, again.action),
        (first.revision, first.action)
    );
    // A second ModelTrained event (another id) about a version already decided.
    let other = promoter
        .execute(
            &Command::Decide {
                model: routes(),
                version: 1,
            },
            &request("event-1b"),
        )
        .await
        .expect("duplicate");
    assert!(!other.applied && other.action.is_none(), "{other:?}");

    second_version(&backends).await;
    promoter
        .execute(
            &Command::Decide {
                model: routes(),
                version: 2,
            },
            &request("event-2"),
        )
        .await
        .expect("decides");
    let rollback = promoter
        .execute(
            &Command::Rollback { model: routes() },
            &request("rollback-once"),
        )
        .await
        .expect("rolls back");
    // A retry after a timeout carries the same operation id: not a second rollback.
    let retry = promoter
        .execute(
            &Command::Rollback { model: routes() },
            &request("rollback-once"),
        )
        .await
        .expect("replay");
    assert!(rollback.applied && !retry.applied);
    assert_eq!(retry.champion, Some(1));
    assert_eq!(champion(&backends).await, Some(1));
    let history = model_registry::history(backends.registry.as_ref(), &routes())
        .await
        .expect("reads");
    assert_eq!(history.len(), 3, "{history:?}");
}

on_both_stores!(replays_are_no_ops);

/// Many transitions read the same state and race: exactly one applies, the rest conflict, and
/// the losers leave no trace.
async fn concurrent_transitions_have_one_winner(backends: Backends) {
    first_version(&backends).await;
    let registry = backends.registry.clone();
    let read = model_registry::get_model(registry.as_ref(), &routes())
        .await
        .expect("reads")
        .expect("exists");
    let attempts = (0..8).map(|i| {
        let registry = registry.clone();
        let read = read.clone();
        async move {
            let mut aliases = read.aliases.clone();
            aliases.insert(Alias::parse(&format!("shadow{i}")).unwrap(), 1);
            let transition = Transition {
                read: read.clone(),
                aliases,
                champions: read.champions.clone(),
                changes: Vec::new(),
                entry: audit_entry(&format!("race-{i}"), Action::SetAlias),
            };
            model_registry::apply(registry.as_ref(), transition).await
        }
    });
    let results = join_all(attempts).await;
    let winners = results.iter().filter(|r| r.is_ok()).count();
    let conflicts = results
        .iter()
        .filter(|r| matches!(r, Err(TransitionError::Conflict { .. })))
        .count();
    assert_eq!((winners, conflicts), (1, 7), "{results:?}");
    let state = model_registry::get_model(registry.as_ref(), &routes())
        .await
        .expect("reads")
        .expect("exists");
    assert_eq!((state.revision, state.aliases.len()), (1, 1));
    let history = model_registry::history(registry.as_ref(), &routes())
        .await
        .expect("reads");
    assert_eq!(history.len(), 1);

    // Promoting the same version from several callers at once: one applies it, the others
    // lose the race, read the registry again and find it done.
    let promoter = std::sync::Arc::new(Promoter::new(&backends));
    let promotions = (0..6).map(|i| {
        let promoter = promoter.clone();
        async move {
            promoter
                .execute(
                    &Command::Promote {
                        model: routes(),
                        version: Some(1),
                        force: false,
                    },
                    &request(&format!("promote-{i}")),
                )
                .await
        }
    });
    let results: Vec<Result<Outcome, PromoteError>> = join_all(promotions).await;
    let applied = results
        .iter()
        .filter(|r| r.as_ref().is_ok_and(|o| o.applied))
        .count();
    assert_eq!(applied, 1, "{results:?}");
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(champion(&backends).await, Some(1));
}

/// Forced promotions back and forth beside alias changes, all at once: every command is applied
/// or finds its work done (retried on the state that beat it), none starves with a conflict.
async fn promotions_under_contention_all_get_through(backends: Backends) {
    first_version(&backends).await;
    second_version(&backends).await;
    let promoter = std::sync::Arc::new(Promoter::new(&backends));
    let promotions = (0..8u64).map(|i| {
        let promoter = promoter.clone();
        async move {
            let version = 1 + i % 2;
            promoter
                .execute(
                    &Command::Promote {
                        model: routes(),
                        version: Some(version),
                        force: true,
                    },
                    &request(&format!("force-{i}")),
                )
                .await
        }
    });
    let aliases = (0..4u64).map(|i| {
        let promoter = promoter.clone();
        async move {
            let alias = Alias::parse(&format!("shadow{i}")).expect("valid");
            promoter
                .execute(
                    &Command::SetAlias {
                        model: routes(),
                        alias: alias.clone(),
                        version: 1 + i % 2,
                    },
                    &request(&format!("alias-{i}")),
                )
                .await
        }
    });
    let (promoted, aliased) = tokio::join!(join_all(promotions), join_all(aliases));
    let results: Vec<&Result<Outcome, PromoteError>> = promoted.iter().chain(&aliased).collect();
    assert!(results.iter().all(|r| r.is_ok()), "{results:?}");
    assert!(champion(&backends).await.is_some());
    let applied = results
        .iter()
        .filter(|r| r.as_ref().is_ok_and(|o| o.applied))
        .count();
    // A promotion whose smoke test failed (its time budget, on a machine busy with the other
    // tests) was withdrawn at once: two applied changes, reported as one outcome.
    let withdrawn = results
        .iter()
        .filter(|r| {
            r.as_ref()
                .is_ok_and(|o| o.smoke_test.as_ref().is_some_and(|t| !t.passed))
        })
        .count();
    let history = model_registry::history(backends.registry.as_ref(), &routes())
        .await
        .expect("reads");
    assert_eq!(
        history.len(),
        applied + withdrawn,
        "one audit entry per applied change"
    );
    assert!(aliased.iter().all(|r| r.as_ref().is_ok_and(|o| o.applied)));
}

on_both_stores!(promotions_under_contention_all_get_through);

fn audit_entry(operation: &str, action: Action) -> model_registry::AuditEntry {
    model_registry::AuditEntry {
        model: routes(),
        revision: 0,
        at: "2026-11-25T10:00:00.000Z".parse().unwrap(),
        action,
        actor: "test".into(),
        version: 1,
        alias: None,
        from_version: None,
        to_version: None,
        champion: None,
        from_status: ModelStatus::Candidate,
        to_status: ModelStatus::Candidate,
        forced: false,
        decision: None,
        reason: String::new(),
        operation: operation.into(),
    }
}

on_both_stores!(concurrent_transitions_have_one_winner);

/// A transition whose last step's condition fails changes nothing: not the aliases, not the
/// revision, not the first version's status, no audit entry, no operation record.
async fn a_failed_transition_leaves_nothing(backends: Backends) {
    first_version(&backends).await;
    let registry = backends.registry.as_ref();
    let read = model_registry::get_model(registry, &routes())
        .await
        .expect("reads")
        .expect("exists");
    let mut aliases = read.aliases.clone();
    aliases.insert(Alias::champion(), 1);
    let transition = Transition {
        read: read.clone(),
        aliases,
        champions: vec![1],
        changes: vec![StatusChange {
            version: 1,
            // Version 1 is a candidate, not archived: this step's condition fails.
            from: ModelStatus::Archived,
            to: ModelStatus::Champion,
            decision: None,
        }],
        entry: audit_entry("midway", Action::Promote),
    };
    let err = model_registry::apply(registry, transition)
        .await
        .expect_err("the status condition fails");
    assert!(matches!(err, TransitionError::Conflict { .. }), "{err}");
    let after = model_registry::get_model(registry, &routes())
        .await
        .expect("reads")
        .expect("exists");
    assert_eq!(after, read);
    assert_eq!(status(&backends, 1).await, ModelStatus::Candidate);
    assert!(model_registry::history(registry, &routes())
        .await
        .expect("reads")
        .is_empty());
    assert_eq!(
        model_registry::applied_revision(registry, &routes(), "midway")
            .await
            .expect("reads"),
        None
    );
}

on_both_stores!(a_failed_transition_leaves_nothing);

/// Bad requests are refused with a specific error, and nothing is written.
async fn bad_requests_are_refused_with_nothing_written(backends: Backends) {
    let promoter = Promoter::new(&backends);
    let unknown = promoter
        .execute(
            &Command::Promote {
                model: model_name("nosuch"),
                version: None,
                force: false,
            },
            &request("p0"),
        )
        .await
        .expect_err("unknown model");
    assert!(
        matches!(unknown, PromoteError::UnknownModel(_)),
        "{unknown}"
    );

    first_version(&backends).await;
    let registry = backends.registry.as_ref();
    let before = model_registry::get_model(registry, &routes())
        .await
        .expect("reads");
    let cases: Vec<(Result<Outcome, PromoteError>, &str)> = vec![
        (
            promoter
                .execute(
                    &Command::Promote {
                        model: routes(),
                        version: Some(9),
                        force: false,
                    },
                    &request("p1"),
                )
                .await,
            "has no version 9",
        ),
        (
            promoter
                .execute(&Command::Rollback { model: routes() }, &request("p2"))
                .await,
            "no previous champion",
        ),
        (
            promoter
                .execute(
                    &Command::SetAlias {
                        model: routes(),
                        alias: Alias::champion(),
                        version: 1,
                    },
                    &request("p3"),
                )
                .await,
            "only by promote or rollback",
        ),
        (
            promoter
                .execute(
                    &Command::RemoveAlias {
                        model: routes(),
                        alias: Alias::parse("shadow").expect("valid"),
                    },
                    &request("p4"),
                )
                .await,
            "has no alias shadow",
        ),
    ];
    for (result, expected) in cases {
        let err = result.expect_err("refused");
        assert!(err.to_string().contains(expected), "{err}");
    }
    assert!(Alias::parse("Not An Alias").is_err());
    assert!(Request::new("", "test", None).is_err());

    // A rejected version cannot be promoted (or aliased) unless the promotion is forced.
    promoter
        .execute(
            &Command::Reject {
                model: routes(),
                version: 1,
            },
            &request("reject-1"),
        )
        .await
        .expect("rejects");
    let err = promoter
        .execute(
            &Command::Promote {
                model: routes(),
                version: Some(1),
                force: false,
            },
            &request("p5"),
        )
        .await
        .expect_err("rejected");
    assert!(
        matches!(
            err,
            PromoteError::NotPromotable {
                status: ModelStatus::Rejected,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("only a forced promotion"), "{err}");
    let err = promoter
        .execute(
            &Command::Reject {
                model: routes(),
                version: 1,
            },
            &request("p6"),
        )
        .await
        .expect_err("already rejected");
    assert!(matches!(err, PromoteError::NotRejectable { .. }), "{err}");
    let after = model_registry::get_model(registry, &routes())
        .await
        .expect("reads");
    assert_eq!(
        after.as_ref().map(|s| s.revision),
        before.as_ref().map(|s| s.revision + 1),
        "only the rejection was written"
    );

    // Forced: recorded as such, and allowed.
    let forced = promoter
        .execute(
            &Command::Promote {
                model: routes(),
                version: Some(1),
                force: true,
            },
            &request("p7"),
        )
        .await
        .expect("forced promotion");
    assert!(forced.applied);
    let history = model_registry::history(registry, &routes())
        .await
        .expect("reads");
    assert!(history
        .last()
        .is_some_and(|e| e.forced && e.action == Action::Promote));
}

on_both_stores!(bad_requests_are_refused_with_nothing_written);

/// The registry never points at a missing or altered artifact: promotion reads it and checks its
/// SHA-256 first; an automatic decision refuses such a candidate, naming the problem.
async fn a_missing_or_altered_artifact_is_never_promoted(backends: Backends) {
    let promoter = Promoter::new(&backends);
    first_version(&backends).await;
    let record = model_registry::get_version(backends.registry.as_ref(), &routes(), 1)
        .await
        .expect("reads")
        .expect("exists");
    let artifact = key(&record.artifact_key);
    let mut bytes = backends.store.get(&artifact).await.expect("exists").bytes;
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    backends
        .store
        .put(&artifact, bytes)
        .await
        .expect("overwrites");
    let err = promoter
        .execute(
            &Command::Promote {
                model: routes(),
                version: Some(1),
                force: true,
            },
            &request("forced"),
        )
        .await
        .expect_err("even --force does not bypass the artifact check");
    assert!(err.to_string().contains("SHA-256"), "{err}");

    backends.store.delete(&artifact).await.expect("deletes");
    let refused = promoter
        .execute(
            &Command::Decide {
                model: routes(),
                version: 1,
            },
            &request("event-1"),
        )
        .await
        .expect("decides");
    assert_eq!(refused.action, Some(Action::Refuse));
    assert!(refused.message.contains("missing"), "{}", refused.message);
    assert_eq!(champion(&backends).await, None);
}

on_both_stores!(a_missing_or_altered_artifact_is_never_promoted);

/// Aliases beside the champion: set, moved, removed, each in the audit trail; tags and a
/// description on a version, kept apart from the trail.
async fn named_aliases_move_and_are_audited(backends: Backends) {
    let promoter = Promoter::new(&backends);
    first_version(&backends).await;
    second_version(&backends).await;
    let challenger = Alias::parse("challenger").expect("valid");
    promoter
        .execute(
            &Command::SetAlias {
                model: routes(),
                alias: challenger.clone(),
                version: 1,
            },
            &request("a1"),
        )
        .await
        .expect("sets");
    promoter
        .execute(
            &Command::SetAlias {
                model: routes(),
                alias: challenger.clone(),
                version: 2,
            },
            &request("a2"),
        )
        .await
        .expect("moves");
    let same = promoter
        .execute(
            &Command::SetAlias {
                model: routes(),
                alias: challenger.clone(),
                version: 2,
            },
            &request("a3"),
        )
        .await
        .expect("no-op");
    assert!(!same.applied);
    let state = model_registry::get_model(backends.registry.as_ref(), &routes())
        .await
        .expect("reads")
        .expect("exists");
    assert_eq!(state.aliases.get("challenger"), Some(&2));
    promoter
        .execute(
            &Command::RemoveAlias {
                model: routes(),
                alias: challenger.clone(),
            },
            &request("a4"),
        )
        .await
        .expect("removes");
    let history = model_registry::history(backends.registry.as_ref(), &routes())
        .await
        .expect("reads");
    let moves: Vec<(Action, Option<u64>, Option<u64>)> = history
        .iter()
        .map(|e| (e.action, e.from_version, e.to_version))
        .collect();
    assert_eq!(
        moves,
        [
            (Action::SetAlias, None, Some(1)),
            (Action::SetAlias, Some(1), Some(2)),
            (Action::RemoveAlias, Some(2), None),
        ]
    );
    // Rejecting a version drops the aliases that pointed to it.
    promoter
        .execute(
            &Command::SetAlias {
                model: routes(),
                alias: challenger.clone(),
                version: 2,
            },
            &request("a5"),
        )
        .await
        .expect("sets");
    promoter
        .execute(
            &Command::Reject {
                model: routes(),
                version: 2,
            },
            &request("a6"),
        )
        .await
        .expect("rejects");
    let state = model_registry::get_model(backends.registry.as_ref(), &routes())
        .await
        .expect("reads")
        .expect("exists");
    assert!(state.aliases.is_empty(), "{:?}", state.aliases);

    let registry = backends.registry.as_ref();
    let tagged = model_registry::annotate(
        registry,
        &routes(),
        1,
        &Annotation {
            description: Some("early rule only".into()),
            set_tags: [
                ("team".to_owned(), "ops".to_owned()),
                ("ticket".to_owned(), "42".to_owned()),
            ]
            .into(),
            remove_tags: Vec::new(),
        },
    )
    .await
    .expect("annotates");
    assert_eq!((tagged.tags.len(), tagged.annotations), (2, 1));
    let untagged = model_registry::annotate(
        registry,
        &routes(),
        1,
        &Annotation {
            remove_tags: vec!["ticket".into()],
            ..Annotation::default()
        },
    )
    .await
    .expect("annotates");
    assert_eq!(
        untagged.description, "early rule only",
        "kept when not given"
    );
    assert_eq!(untagged.tags.keys().collect::<Vec<_>>(), ["team"]);
    let err = model_registry::annotate(registry, &routes(), 9, &Annotation::default())
        .await
        .expect_err("no version 9");
    assert!(err.to_string().contains("no version 9"), "{err}");
    let history = model_registry::history(registry, &routes())
        .await
        .expect("reads");
    assert_eq!(
        history.len(),
        5,
        "annotations are not transitions: {history:?}"
    );
}

on_both_stores!(named_aliases_move_and_are_audited);

/// With `require_approval`, a passing candidate waits (still a candidate, nothing served); a
/// redelivered event leaves it waiting; a person's promotion approves it, and that is recorded.
async fn required_approval_holds_a_candidate_until_a_person_promotes_it(backends: Backends) {
    let promoter = Promoter::new(&backends);
    let spec = SPEC.replace(
        "max_slice_regression = 0.05",
        "max_slice_regression = 0.05\nrequire_approval = true",
    );
    ingest(
        &backends,
        &spec,
        vec![("early.csv".into(), period_csv(1, 2400, false, 7))],
    )
    .await;
    train(&backends, "routes").await.expect("trains");
    let held = promoter
        .execute(
            &Command::Decide {
                model: routes(),
                version: 1,
            },
            &request("event-1"),
        )
        .await
        .expect("decides");
    assert_eq!(held.action, Some(Action::AwaitApproval));
    assert_eq!(
        (status(&backends, 1).await, champion(&backends).await),
        (ModelStatus::Candidate, None)
    );
    let again = promoter
        .execute(
            &Command::Decide {
                model: routes(),
                version: 1,
            },
            &request("event-1-redelivered"),
        )
        .await
        .expect("no-op");
    assert!(
        !again.applied && again.message.contains("awaits approval"),
        "{again:?}"
    );

    let approved = promoter
        .execute(
            &Command::Promote {
                model: routes(),
                version: None,
                force: false,
            },
            &Request::new("approve-1", "cli:alice", None).expect("valid"),
        )
        .await
        .expect("approves");
    assert_eq!(
        (approved.action, approved.champion),
        (Some(Action::Promote), Some(1))
    );
    let decision = approved.decision.expect("a decision");
    let approval = decision
        .gates
        .iter()
        .find(|g| g.name == "approval")
        .expect("approval gate");
    assert!(
        approval.passed && approval.detail.contains("cli:alice"),
        "{approval:?}"
    );
    let history = model_registry::history(backends.registry.as_ref(), &routes())
        .await
        .expect("reads");
    let actions: Vec<Action> = history.iter().map(|e| e.action).collect();
    assert_eq!(actions, [Action::AwaitApproval, Action::Promote]);
}

on_both_stores!(required_approval_holds_a_candidate_until_a_person_promotes_it);
