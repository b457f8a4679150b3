//! How a target's raw values became the classes a version learned: the spec's map, and the rare
//! classes dropped or merged. Decided once, when training reads its rows; kept in the lineage,
//! so that the test part is rebuilt with exactly the same classes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::spec::{RareClasses, TargetSection};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TargetShaping {
    /// Raw value → class; empty when the values are the classes.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub map: BTreeMap<String, String>,
    /// Rows whose value the map does not list (left out).
    #[serde(default)]
    pub unmapped_rows: usize,
    /// Rare classes left out, with their rows.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub dropped: BTreeMap<String, usize>,
    /// Rare classes learned as `merged_into`, with their rows.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub merged: BTreeMap<String, usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_into: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ShapingError {
    #[error("target.rare_classes merges rare classes into {class:?}, which the data does not have (classes: {})", classes.join(", "))]
    NoSuchClass { class: String, classes: Vec<String> },
}

impl TargetShaping {
    /// Decides the classes from the raw labels and their rows: the spec's map, then each class with fewer rows
    /// than `min_class_rows` dropped or merged as `rare_classes` says (`error` leaves them, for
    /// the split's check to name).
    pub fn fit<'a>(
        target: &TargetSection,
        labels: impl IntoIterator<Item = (&'a str, usize)>,
    ) -> Result<TargetShaping, ShapingError> {
        let mut shaping = TargetShaping {
            map: target.map.clone(),
            ..TargetShaping::default()
        };
        let mut rows: BTreeMap<String, usize> = BTreeMap::new();
        for (label, n) in labels {
            match shaping.mapped(label) {
                Some(class) => *rows.entry(class.to_owned()).or_default() += n,
                None => shaping.unmapped_rows += n,
            }
        }
        let rare = rows
            .iter()
            .filter(|(_, &n)| n < target.min_class_rows)
            .map(|(class, &n)| (class.clone(), n));
        match &target.rare_classes {
            RareClasses::Error => {}
            RareClasses::Drop => shaping.dropped = rare.collect(),
            RareClasses::MergeInto(into) => {
                if !rows.contains_key(into) {
                    return Err(ShapingError::NoSuchClass {
                        class: into.clone(),
                        classes: rows.into_keys().collect(),
                    });
                }
                shaping.merged = rare.filter(|(class, _)| class != into).collect();
                shaping.merged_into = Some(into.clone()).filter(|_| !shaping.merged.is_empty());
            }
        }
        Ok(shaping)
    }

    /// The class a raw label is learned as; None for a value the map leaves out or a dropped
    /// class.
    pub fn apply(&self, label: &str) -> Option<String> {
        let class = self.mapped(label)?;
        if self.dropped.contains_key(class) {
            return None;
        }
        Some(self.learned_as(class).to_owned())
    }

    /// The class the model learned `class` (a value after the spec's map) as: the class rare
    /// ones were merged into, or itself.
    pub fn learned_as<'a>(&'a self, class: &'a str) -> &'a str {
        match &self.merged_into {
            Some(into) if self.merged.contains_key(class) => into,
            _ => class,
        }
    }

    /// Rows of the data this shaping leaves out (beside those without a target).
    pub fn left_out_rows(&self) -> usize {
        self.unmapped_rows + self.dropped.values().sum::<usize>()
    }

    fn mapped<'a>(&'a self, label: &'a str) -> Option<&'a str> {
        crate::spec::mapped_class(&self.map, label)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::TargetKind;

    fn target(map: &[(&str, &str)], rare_classes: RareClasses) -> TargetSection {
        TargetSection {
            column: "loan_status".into(),
            kind: TargetKind::Multiclass,
            positive: None,
            map: map
                .iter()
                .map(|(from, to)| ((*from).to_owned(), (*to).to_owned()))
                .collect(),
            min_class_rows: 3,
            rare_classes,
        }
    }

    #[test]
    fn mapped_values_become_classes_and_the_rest_are_counted_out() {
        let target = target(
            &[
                ("Charged Off", "bad"),
                ("Late (31-120 days)", "bad"),
                ("Current", "good"),
            ],
            RareClasses::Error,
        );
        let data = [
            ("Charged Off", 4),
            ("Late (31-120 days)", 1),
            ("Current", 9),
            ("Issued", 2),
        ];
        let shaping = TargetShaping::fit(&target, data).expect("shapes");
        assert_eq!(shaping.unmapped_rows, 2);
        assert_eq!(shaping.apply("Late (31-120 days)").as_deref(), Some("bad"));
        assert_eq!(shaping.apply("Issued"), None);
        assert_eq!(shaping.left_out_rows(), 2);
    }

    #[test]
    fn rare_classes_are_dropped_or_merged_as_the_spec_says() {
        let data = [("a", 10), ("b", 8), ("c", 2), ("d", 1)];
        let dropped = TargetShaping::fit(&target(&[], RareClasses::Drop), data).expect("shapes");
        assert_eq!(
            dropped.dropped,
            [("c".to_owned(), 2), ("d".to_owned(), 1)].into()
        );
        assert_eq!(
            (dropped.apply("c"), dropped.apply("a").as_deref()),
            (None, Some("a"))
        );
        assert_eq!(dropped.left_out_rows(), 3);

        let merged = TargetShaping::fit(&target(&[], RareClasses::MergeInto("b".into())), data)
            .expect("shapes");
        assert_eq!(merged.apply("d").as_deref(), Some("b"));
        assert_eq!(merged.merged.len(), 2);
        assert_eq!(merged.left_out_rows(), 0);

        let kept = TargetShaping::fit(&target(&[], RareClasses::Error), data).expect("shapes");
        assert_eq!(
            kept.apply("d").as_deref(),
            Some("d"),
            "error: the split's check names it"
        );

        let nowhere = TargetShaping::fit(&target(&[], RareClasses::MergeInto("z".into())), data);
        assert!(matches!(nowhere, Err(ShapingError::NoSuchClass { .. })));
    }

    #[test]
    fn an_observed_class_reads_as_the_class_the_model_learned_it_as() {
        // The monitor sees outcomes through the spec's map already: classes, not raw values.
        let target = target(
            &[
                ("Fully Paid", "paid"),
                ("Charged Off", "default"),
                ("Late", "late"),
            ],
            RareClasses::MergeInto("default".into()),
        );
        let data = [("Fully Paid", 10), ("Charged Off", 8), ("Late", 1)];
        let shaping = TargetShaping::fit(&target, data).expect("shapes");
        assert_eq!(
            (shaping.learned_as("late"), shaping.learned_as("paid")),
            ("default", "paid")
        );
        assert_eq!(shaping.apply("Late").as_deref(), Some("default"));
        assert_eq!(shaping.apply("late"), None, "apply reads raw values");
    }
}
