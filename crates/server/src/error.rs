//! Errors of the server and the one table that maps them to gRPC status codes.

use beaconport_domain::FieldError;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, FieldViolation, StatusExt};

/// Errors of the gRPC services.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The batch is invalid: the caller must change it. Nothing was stored.
    #[error("{}", summary(.0))]
    Rejected(Vec<FieldError>),
    /// A request field outside the events is invalid.
    #[error("{field}: {reason}")]
    BadRequest { field: String, reason: String },
    /// The caller is over one of its limits (batch size, rate, streams): nothing was done.
    #[error("{0}")]
    Limit(String),
    /// The log refused or failed.
    #[error(transparent)]
    Log(#[from] beaconport_log::Error),
    /// A stored event does not decode.
    #[error(transparent)]
    Stored(#[from] beaconport_proto::stored::Error),
    /// What was asked for does not exist (a person id, a network id).
    #[error("not found: {0}")]
    NotFound(String),
    /// The views did not reach the position asked for in time: retry later.
    #[error("views have applied events up to position {applied}, not yet {wanted}: retry later")]
    Lagging { wanted: u64, applied: u64 },
    /// A query's consultation record could not be written: the answer is withheld.
    #[error("{0}")]
    Unrecorded(String),
    /// Views as of an earlier time could not be built.
    #[error("views as of {bound}: {reason}")]
    History { bound: String, reason: String },
    /// The network side failed (binding, serving).
    #[error("transport: {0}")]
    Transport(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

fn summary(errors: &[FieldError]) -> String {
    let shown: Vec<String> = errors.iter().take(5).map(ToString::to_string).collect();
    let more = errors.len().saturating_sub(shown.len());
    let mut s = format!("batch rejected, nothing stored: {}", shown.join("; "));
    if more > 0 {
        s.push_str(&format!("; and {more} more"));
    }
    s
}

/// Maps an error to a gRPC status. Rejected input is INVALID_ARGUMENT with a
/// `google.rpc.BadRequest` detail per field (`events[3].person_recorded.date_of_birth`);
/// conflicts are ALREADY_EXISTS; storage failures UNAVAILABLE (retry: publishing is idempotent);
/// damage is DATA_LOSS.
pub fn status(e: &Error) -> Status {
    use beaconport_log::Error as L;
    let code = match e {
        Error::Rejected(_) | Error::BadRequest { .. } => Code::InvalidArgument,
        Error::Limit(_) => Code::ResourceExhausted,
        Error::Log(l) => match l {
            L::Conflict { .. } | L::ConflictInTopic { .. } => Code::AlreadyExists,
            L::TooLarge { .. } | L::ConflictInBatch { .. } => Code::InvalidArgument,
            L::Storage(_) | L::Closed => Code::Unavailable,
            L::Corrupt { .. } => Code::DataLoss,
        },
        Error::Stored(_) => Code::DataLoss,
        Error::NotFound(_) => Code::NotFound,
        Error::Lagging { .. } => Code::Unavailable,
        Error::Unrecorded(_) => Code::Unavailable,
        Error::History { .. } => Code::Unavailable,
        Error::Transport(_) => Code::Unavailable,
    };
    match e {
        Error::Rejected(errors) => {
            let violations: Vec<FieldViolation> = errors
                .iter()
                .map(|f| FieldViolation::new(format!("events[{}].{}", f.index, f.field), f.to_string()))
                .collect();
            Status::with_error_details(code, e.to_string(), ErrorDetails::with_bad_request(violations))
        }
        Error::BadRequest { field, reason } => Status::with_error_details(
            code,
            e.to_string(),
            ErrorDetails::with_bad_request(vec![FieldViolation::new(field.clone(), reason.clone())]),
        ),
        _ => Status::new(code, e.to_string()),
    }
}

impl From<Error> for Status {
    fn from(e: Error) -> Self {
        status(&e)
    }
}
