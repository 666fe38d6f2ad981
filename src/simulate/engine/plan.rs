//! The users phase's plan: which users a cycle provisions, decided up front, with each job's attributes built
//! only when the job starts.
//!
//! A cycle decides every user's job before sending (what to create, update, disable or delete), but a job's
//! request needs the user's whole [`UserAttrs`] (thirteen strings). Built up front for an initial cycle of a
//! million users that was about 850 MB held at once; a user to create is now planned as its index alone, and
//! its attributes are taken from the model as its job is started, so at most `--concurrency` of them exist at
//! a time. The attributes are the model's at that moment, which the model does not change during a cycle.

use super::{UserAttrs, UserJob};
use crate::simulate::model::Model;

/// One user's planned job.
pub(super) enum Planned {
    /// Create (or link) the user with the model's attributes: a user the engine never pushed.
    FromModel(u32),
    /// A job decided with its attributes (an update, a disable, a delete).
    Job(UserJob),
}

impl Planned {
    /// The job to run, its attributes taken from `model` if they were not decided with it.
    pub(super) fn into_job(self, model: &Model) -> UserJob {
        match self {
            Planned::FromModel(i) => {
                let attrs: UserAttrs = model.attrs(i);
                UserJob::Provision { i, lookup_name: attrs.user_name.clone(), attrs: Box::new(attrs), known: None }
            }
            Planned::Job(job) => job,
        }
    }
}
