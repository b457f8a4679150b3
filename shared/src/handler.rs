//! How an event-driven Lambda handler (ingest, train, drift) fails: the event was unusable, or the
//! task failed in a way a retry may or may not fix. Lambda reports the variant as the error type,
//! and retries asynchronous invocations before sending them to the dead-letter queue.

#[derive(Debug, thiserror::Error)]
pub enum HandlerError<E: std::error::Error> {
    /// Nothing in the event can be done; a retry would fail the same way.
    #[error("unusable event: {0}")]
    BadEvent(String),
    /// A store or the bus was unavailable: a retry may succeed.
    #[error("{task} failed and may succeed on retry: {source}")]
    Retryable { task: String, source: E },
    #[error("{task} failed: {source}")]
    Failed { task: String, source: E },
}

impl<E: std::error::Error> From<HandlerError<E>> for lambda_runtime::Diagnostic {
    fn from(error: HandlerError<E>) -> Self {
        let error_type = match &error {
            HandlerError::BadEvent(_) => "BadEvent",
            HandlerError::Retryable { .. } => "Retryable",
            HandlerError::Failed { .. } => "Failed",
        };
        Self {
            error_type: error_type.to_owned(),
            error_message: error.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_runtime::Diagnostic;

    #[derive(Debug, thiserror::Error)]
    #[error("the store is unavailable")]
    struct Unavailable;

    #[test]
    fn lambda_reports_the_variant_as_the_error_type_and_the_whole_message() {
        let reported = |error: HandlerError<Unavailable>| {
            let d = Diagnostic::from(error);
            (d.error_type, d.error_message)
        };
        assert_eq!(
            reported(HandlerError::BadEvent("no model named".into())),
            ("BadEvent".into(), "unusable event: no model named".into())
        );
        assert_eq!(
            reported(HandlerError::Retryable {
                task: "training flights".into(),
                source: Unavailable
            }),
            (
                "Retryable".into(),
                "training flights failed and may succeed on retry: the store is unavailable".into()
            )
        );
        assert_eq!(
            reported(HandlerError::Failed {
                task: "ingesting raw/flights/a.csv".into(),
                source: Unavailable
            }),
            (
                "Failed".into(),
                "ingesting raw/flights/a.csv failed: the store is unavailable".into()
            )
        );
    }
}
