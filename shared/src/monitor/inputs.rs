//! The inputs of a window's inference records, kept column by column as they are read. Each record
//! arrives with a JSON map of its inputs (about 2 KB for the flights model); the monitor keeps a
//! small cell per value instead, and each distinct text once, so a window's memory is the
//! predictions' and not their maps'.

use std::collections::HashMap;

use serde_json::{Map, Number, Value};

/// One input value of one record.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Number(Number),
    Bool(bool),
    /// An index into the column set's texts.
    Text(u32),
}

/// Every input column seen in the window, each with one cell per record read so far.
#[derive(Debug, Default)]
pub struct Inputs {
    /// Each input's column.
    index: HashMap<String, usize>,
    columns: Vec<Vec<Cell>>,
    rows: usize,
    texts: Vec<String>,
    text_ids: HashMap<String, u32>,
}

impl Inputs {
    /// Takes one record's inputs as its row (and leaves the map empty).
    pub fn push(&mut self, features: &mut Map<String, Value>) {
        for (name, value) in std::mem::take(features) {
            let column = match self.index.get(&name) {
                Some(&column) => column,
                None => {
                    self.index.insert(name, self.columns.len());
                    self.columns.push(vec![Cell::Null; self.rows]);
                    self.columns.len() - 1
                }
            };
            let cell = match value {
                Value::Null => Cell::Null,
                Value::Number(n) => Cell::Number(n),
                Value::Bool(b) => Cell::Bool(b),
                Value::String(text) => Cell::Text(self.text_id(text)),
                other => Cell::Text(self.text_id(other.to_string())),
            };
            self.columns[column].push(cell);
        }
        self.rows += 1;
        for column in &mut self.columns {
            // A record without this input: null.
            column.resize(self.rows, Cell::Null);
        }
    }

    fn text_id(&mut self, text: String) -> u32 {
        if let Some(&id) = self.text_ids.get(&text) {
            return id;
        }
        let id = self.texts.len() as u32;
        self.texts.push(text.clone());
        self.text_ids.insert(text, id);
        id
    }

    /// Record `row`'s value of `name`.
    pub fn cell(&self, name: &str, row: usize) -> &Cell {
        self.index
            .get(name)
            .and_then(|&column| self.columns[column].get(row))
            .unwrap_or(&Cell::Null)
    }

    pub fn text(&self, id: u32) -> &str {
        self.texts.get(id as usize).map_or("", String::as_str)
    }

    /// Record `row`'s value of `column` as text, as training slices it: a missing value is its
    /// own slice, numbers as JSON writes them.
    pub fn slice_value(&self, column: &str, row: usize) -> String {
        match self.cell(column, row) {
            Cell::Null => "(missing)".to_owned(),
            Cell::Number(n) => n.to_string(),
            Cell::Bool(b) => b.to_string(),
            Cell::Text(id) => self.text(*id).to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    #[test]
    fn records_become_columns_with_nulls_where_an_input_is_absent() {
        let mut inputs = Inputs::default();
        let mut first = map(json!({"month": 7, "carrier": "UA", "temp": 81.5}));
        inputs.push(&mut first);
        assert!(first.is_empty(), "the map is taken");
        inputs.push(&mut map(
            json!({"carrier": "UA", "late": true, "dest": null}),
        ));
        inputs.push(&mut map(json!({"month": 8, "carrier": "B6"})));
        assert_eq!(inputs.slice_value("month", 0), "7");
        assert_eq!(inputs.slice_value("month", 1), "(missing)");
        assert_eq!(inputs.slice_value("temp", 0), "81.5");
        assert_eq!(inputs.slice_value("carrier", 2), "B6");
        assert_eq!(inputs.slice_value("late", 0), "(missing)");
        assert_eq!(inputs.slice_value("late", 1), "true");
        assert_eq!(inputs.slice_value("nothing", 1), "(missing)");
        assert_eq!(inputs.texts.len(), 2, "each text kept once");
    }
}
