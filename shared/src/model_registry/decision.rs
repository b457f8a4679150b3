//! What the promotion policy decided about a candidate, gate by gate: recorded with the version
//! and in the audit trail, so a decision can be explained later.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::spec::Metric;

/// One gate's verdict: `value` is compared with `threshold` (at least, or for a regression at
/// most).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gate {
    pub name: String,
    pub passed: bool,
    pub value: Option<f64>,
    pub threshold: Option<f64>,
    pub detail: String,
}

/// What the policy said about a candidate, gate by gate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// Every gate passed.
    pub passed: bool,
    pub primary_metric: Metric,
    pub candidate: u64,
    pub candidate_score: Option<f64>,
    /// The champion it was compared with, when there was one.
    pub champion: Option<u64>,
    pub champion_score: Option<f64>,
    /// Rows of the candidate's test part both were scored on.
    pub test_rows: usize,
    pub gates: Vec<Gate>,
    pub decided_at: DateTime<Utc>,
}

impl Decision {
    pub fn failed_gates(&self) -> Vec<&Gate> {
        self.gates.iter().filter(|g| !g.passed).collect()
    }

    /// Whether the only things missing come with time: a person's approval, live evidence from
    /// scoring as the shadow. The candidate then stays a candidate.
    pub fn awaits_approval(&self) -> bool {
        let failed = self.failed_gates();
        !failed.is_empty()
            && failed
                .iter()
                .all(|g| g.name == APPROVAL || g.name == LIVE_EVIDENCE)
    }
}

pub const APPROVAL: &str = "approval";
pub const LIVE_EVIDENCE: &str = "live_evidence";
